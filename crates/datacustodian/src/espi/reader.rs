//! A small event walker over quick-xml for the ESPI documents the server
//! accepts (uploads, registration updates): elements by local name (any
//! prefix), each element's own text, and errors that say where.

use quick_xml::Reader;
use quick_xml::events::Event;

/// What the walker reports.
pub enum Node<'a> {
    /// An element opened; the path of local names ends with it.
    Open(&'a [String]),
    /// An element closed with its (trimmed) text.
    Close(&'a [String], &'a str),
}

/// Walks `xml`, calling `f` on every element open and close. Errors name
/// the byte offset.
pub fn walk(xml: &[u8], mut f: impl FnMut(Node<'_>) -> Result<(), String>) -> Result<(), String> {
    let mut r = Reader::from_reader(xml);
    r.config_mut().trim_text(false);
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut seen_root = false;
    loop {
        let pos = r.buffer_position();
        let ev = r
            .read_event()
            .map_err(|e| format!("not well-formed XML at byte {}: {e}", r.error_position()))?;
        match ev {
            Event::Start(e) => {
                if path.is_empty() && seen_root {
                    return Err(format!("a second root element at byte {pos}"));
                }
                seen_root = true;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                path.push(name);
                texts.push(String::new());
                f(Node::Open(&path)).map_err(|m| format!("{m} (at byte {pos})"))?;
            }
            Event::Empty(e) => {
                if path.is_empty() && seen_root {
                    return Err(format!("a second root element at byte {pos}"));
                }
                seen_root = true;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                path.push(name);
                f(Node::Open(&path)).map_err(|m| format!("{m} (at byte {pos})"))?;
                f(Node::Close(&path, "")).map_err(|m| format!("{m} (at byte {pos})"))?;
                path.pop();
            }
            Event::End(_) => {
                let text = texts.pop().unwrap_or_default();
                f(Node::Close(&path, text.trim())).map_err(|m| format!("{m} (at byte {pos})"))?;
                path.pop();
            }
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|e| format!("bad text at byte {pos}: {e}"))?;
                if let Some(cur) = texts.last_mut() {
                    cur.push_str(&s);
                } else if !s.trim().is_empty() {
                    return Err(format!("text outside the root element at byte {pos}"));
                }
            }
            Event::CData(t) => {
                let s = t
                    .decode()
                    .map_err(|e| format!("bad text at byte {pos}: {e}"))?;
                if let Some(cur) = texts.last_mut() {
                    cur.push_str(&s);
                }
            }
            Event::GeneralRef(g) => {
                let c = match g.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = g
                            .decode()
                            .map_err(|e| format!("bad reference at byte {pos}: {e}"))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name}; at byte {pos}"))?
                            .to_string()
                    }
                    Err(e) => return Err(format!("bad character reference at byte {pos}: {e}")),
                };
                if let Some(cur) = texts.last_mut() {
                    cur.push_str(&c);
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE is not accepted".into()),
            Event::Eof => {
                if let Some(open) = path.last() {
                    return Err(format!(
                        "not well-formed XML: <{open}> is not closed at the end of the body"
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    if !seen_root {
        return Err("the body holds no XML element".into());
    }
    Ok(())
}

/// True when `path` ends with `tail`.
pub fn ends_with(path: &[String], tail: &[&str]) -> bool {
    path.len() >= tail.len()
        && path[path.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(a, b)| a == b)
}
