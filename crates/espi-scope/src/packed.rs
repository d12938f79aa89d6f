//! String tables packed into one `&str`, for WebAssembly bundles.
//!
//! In wasm a `[&str; N]` costs 8 bytes of poorly compressing pointers per
//! entry (an index of offsets still costs about one byte each after
//! compression); the catalog's and the consent widget's text tables are
//! packed instead: the entries joined, each followed by [`SEP`]. A lookup
//! scans the table, so use this only for small tables read off the hot path.
//!
//! ```
//! use espi_scope::packed::{count, entries, entry};
//! const TABLE: &str = "one\x1ftwo\x1fthree\x1f";
//! const _: () = assert!(count(TABLE) == 3); // checked at compile time
//! assert_eq!(entry(TABLE, 1), "two");
//! assert_eq!(entry(TABLE, 3), "");
//! assert_eq!(entries(TABLE).collect::<Vec<_>>(), ["one", "two", "three"]);
//! ```

/// What follows each entry.
pub const SEP: char = '\x1f';

/// How many entries `table` holds; `const`, so a table's size can be
/// checked when it is compiled.
pub const fn count(table: &str) -> usize {
    let bytes = table.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == SEP as u8 {
            n += 1;
        }
        i += 1;
    }
    n
}

/// Entry `i` of `table`; `""` past the end.
pub fn entry(table: &'static str, i: usize) -> &'static str {
    entries(table).nth(i).unwrap_or("")
}

/// Every entry of `table`, in order.
pub fn entries(table: &'static str) -> impl Iterator<Item = &'static str> {
    table.split_terminator(SEP)
}
