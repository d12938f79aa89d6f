//! The receipt mail of an authorization: who gets which data, from which
//! meters, how far back and until when, why (the scope-of-use text and
//! link), the authorization id and a link to "Your data sharing", in
//! English or Spanish, as plain text and HTML (every value escaped).

use consent_api::{Meter, Receipt, ServiceKind};
use espi_scope::catalog::{ConsentRole, role_of};
use espi_scope::describe::{self, Lang};
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use crate::error::html_escape;
use crate::scope::parse_stored;
use crate::store::ScopeOfUse;

/// What the receipt mail says.
pub struct ReceiptMail<'a> {
    /// The authorization's receipt (as the decision answered it).
    pub receipt: &'a Receipt,
    /// The scope-of-use disclosure the request named, if any.
    pub scope_of_use: Option<&'a ScopeOfUse>,
    /// The "Your data sharing" page.
    pub sharing_url: String,
    /// The language the customer used.
    pub lang: Lang,
}

/// The words of the mail, per language.
struct Words {
    subject: &'static str,
    intro: &'static str,
    who: &'static str,
    what: &'static str,
    meters: &'static str,
    history: &'static str,
    history_none: &'static str,
    history_last: &'static str,
    until: &'static str,
    why: &'static str,
    more: &'static str,
    id: &'static str,
    manage: &'static str,
    kinds: [&'static str; 3],
}

const EN: Words = Words {
    subject: "You are sharing your energy data with {client}",
    intro: "You allowed {client} to get your energy data. This is your receipt.",
    who: "Shared with",
    what: "What",
    meters: "Meters",
    history: "Past data",
    history_none: "No past data",
    history_last: "Going back {time}",
    until: "Until",
    why: "What they do with it",
    more: "More about this",
    id: "Authorization ID",
    manage: "To see or stop what you share, go to Your data sharing:",
    kinds: ["Electricity", "Gas", "Water"],
};

const ES: Words = Words {
    subject: "Está compartiendo sus datos de energía con {client}",
    intro: "Usted permitió que {client} obtenga sus datos de energía. Este es su comprobante.",
    who: "Compartido con",
    what: "Qué",
    meters: "Medidores",
    history: "Datos anteriores",
    history_none: "Ningún dato anterior",
    history_last: "Desde hace {time}",
    until: "Hasta",
    why: "Qué hacen con ellos",
    more: "Más información",
    id: "ID de la autorización",
    manage: "Para ver o detener lo que comparte, vaya a Sus datos compartidos:",
    kinds: ["Electricidad", "Gas", "Agua"],
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Es => &ES,
    }
}

fn meter_line(w: &Words, m: &Meter) -> String {
    let mut details: Vec<String> = m
        .service_kind
        .map(|k| {
            w.kinds[match k {
                ServiceKind::Electricity => 0,
                ServiceKind::Gas => 1,
                ServiceKind::Water => 2,
            }]
            .to_string()
        })
        .into_iter()
        .collect();
    details.extend(m.address.clone());
    if details.is_empty() {
        m.label.clone()
    } else {
        format!("{} ({})", m.label, details.join(", "))
    }
}

/// The rows of the receipt: a label and one or more lines each.
fn rows(mail: &ReceiptMail) -> Vec<(&'static str, Vec<String>)> {
    let w = words(mail.lang);
    let r = mail.receipt;
    let mut what: Vec<String> = Vec::new();
    if let Some(scope) = parse_stored(&r.scope) {
        for &id in &scope.function_blocks {
            if role_of(id) != ConsentRole::Technical {
                let l = describe::function_block_description(id, mail.lang).to_string();
                if !what.contains(&l) {
                    what.push(l);
                }
            }
        }
    }
    let mut rows = vec![(w.who, vec![r.third_party.clone()]), (w.what, what)];
    rows.push((
        w.meters,
        r.meters.iter().map(|m| meter_line(w, m)).collect(),
    ));
    if let Some(h) = r.history_length {
        rows.push((
            w.history,
            vec![if h == 0 {
                w.history_none.to_string()
            } else {
                w.history_last
                    .replace("{time}", &describe::seconds(h, mail.lang))
            }],
        ));
    }
    rows.push((w.until, vec![describe::end_date(r.end_date, mail.lang)]));
    if let Some(s) = mail.scope_of_use {
        rows.push((w.why, vec![s.text.clone()]));
    }
    rows.push((w.id, vec![r.authorization_id.clone()]));
    rows
}

/// The plain-text part.
pub fn text(mail: &ReceiptMail) -> String {
    let w = words(mail.lang);
    let client = &mail.receipt.third_party;
    let mut out = format!("{}\n\n", w.intro.replace("{client}", client));
    for (label, lines) in rows(mail) {
        out.push_str(label);
        out.push_str(":\n");
        for l in lines {
            out.push_str("  ");
            out.push_str(&l);
            out.push('\n');
        }
    }
    if let Some(url) = mail.scope_of_use.and_then(|s| s.url.as_deref()) {
        out.push_str(&format!("{}: {url}\n", w.more));
    }
    out.push_str(&format!("\n{}\n{}\n", w.manage, mail.sharing_url));
    out
}

/// Only `https:`/`http:` links (a registered URL is not trusted to be one).
fn safe_link(url: &str) -> Option<&str> {
    let u = url::Url::parse(url).ok()?;
    matches!(u.scheme(), "https" | "http").then_some(url)
}

/// The HTML part.
pub fn html(mail: &ReceiptMail) -> String {
    let w = words(mail.lang);
    let client = html_escape(&mail.receipt.third_party);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5;color:#0b0c0c\">\n<p>{}</p>\n<dl>\n",
        mail.lang.as_str(),
        html_escape(&w.subject.replace("{client}", &mail.receipt.third_party)),
        w.intro
            .replace("{client}", &format!("<strong>{client}</strong>")),
    );
    for (label, lines) in rows(mail) {
        out.push_str(&format!(
            "<dt><strong>{}</strong></dt>\n",
            html_escape(label)
        ));
        for l in lines {
            out.push_str(&format!("<dd>{}</dd>\n", html_escape(&l)));
        }
    }
    out.push_str("</dl>\n");
    if let Some(url) = mail
        .scope_of_use
        .and_then(|s| s.url.as_deref())
        .and_then(safe_link)
    {
        out.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>\n",
            html_escape(url),
            html_escape(w.more)
        ));
    }
    out.push_str(&format!(
        "<p>{}<br><a href=\"{}\">{}</a></p>\n</body></html>\n",
        html_escape(w.manage),
        html_escape(&mail.sharing_url),
        html_escape(&mail.sharing_url)
    ));
    out
}

/// The whole message, from `from` to `to`.
pub fn message(from: &Mailbox, to: Mailbox, mail: &ReceiptMail) -> Result<Message, String> {
    let subject = words(mail.lang)
        .subject
        .replace("{client}", &mail.receipt.third_party);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(text(mail), html(mail)))
        .map_err(|e| format!("cannot build the receipt mail: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_api::AuthorizationStatus;

    fn receipt(name: &str) -> Receipt {
        Receipt {
            authorization_id: "auth-1".into(),
            third_party: name.into(),
            scope: "FB=1_3_4_5_13_14_39;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=34128000".into(),
            meters: vec![Meter {
                said: "s1".into(),
                label: "Home".into(),
                address: Some("1 Main St".into()),
                service_kind: Some(ServiceKind::Electricity),
            }],
            granted_at: 0,
            end_date: 1_804_204_800,
            history_length: Some(63_072_000),
            status: AuthorizationStatus::Active,
        }
    }

    #[test]
    fn html_escapes_every_value_and_drops_unsafe_links() {
        let r = receipt("<script>alert(1)</script> & Co");
        let sou = ScopeOfUse {
            name: "x".into(),
            text: "We \"analyse\" <b>it</b>".into(),
            url: Some("javascript:alert(1)".into()),
        };
        let m = ReceiptMail {
            receipt: &r,
            scope_of_use: Some(&sou),
            sharing_url: "https://dc.example/consent/sharing".into(),
            lang: Lang::En,
        };
        let h = html(&m);
        assert!(!h.contains("<script>"), "{h}");
        assert!(
            h.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"),
            "{h}"
        );
        assert!(
            h.contains("We &quot;analyse&quot; &lt;b&gt;it&lt;/b&gt;"),
            "{h}"
        );
        assert!(!h.contains("javascript:"), "{h}");
    }

    #[test]
    fn both_languages() {
        let r = receipt("Solar Co");
        for (lang, want) in [
            (Lang::En, "March 5, 2027"),
            (Lang::Es, "5 de marzo de 2027"),
        ] {
            let m = ReceiptMail {
                receipt: &r,
                scope_of_use: None,
                sharing_url: "https://dc.example/consent/sharing".into(),
                lang,
            };
            let t = text(&m);
            assert!(t.contains(want), "{t}");
            assert!(t.contains("Home (") && t.contains("1 Main St"), "{t}");
            assert!(t.contains("auth-1"), "{t}");
            assert!(t.contains("https://dc.example/consent/sharing"), "{t}");
        }
    }
}
