//! Fuzz the lenient parser: never panics, spans stay inside the input on
//! character boundaries, the canonical form is stable when valid, and the
//! canonical reader agrees with the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let input: &str = &input;
    let parsed = espi_scope::parse(input);
    for d in &parsed.diagnostics {
        assert!(d.span.start <= d.span.end && d.span.end <= input.len());
        assert!(input.is_char_boundary(d.span.start) && input.is_char_boundary(d.span.end));
    }
    let canonical = parsed.value.to_string();
    let again = espi_scope::parse(&canonical);
    if !parsed.has_errors() {
        assert_eq!(again.value, parsed.value, "round trip of {input:?} via {canonical:?}");
        assert_eq!(again.value.to_string(), canonical);
    }
    // The canonical reader (the consent widget's) accepts only canonical
    // text, agrees with the lenient parser, and reads every accepted scope.
    if let Some(read) = espi_scope::canonical::read(input) {
        assert_eq!(read.to_string(), input);
        assert!(!parsed.has_errors());
        assert_eq!(parsed.value.scopes, vec![read]);
    }
    if !parsed.has_errors() {
        for s in &parsed.value.scopes {
            assert_eq!(espi_scope::canonical::read(&s.to_string()).as_ref(), Some(s));
        }
    }
    for s in &parsed.value.scopes {
        let _ = espi_scope::narrow(
            s,
            &espi_scope::Choices::default(),
            &espi_scope::NarrowPolicy::new(1_700_000_000, vec!["A".into()]),
        );
    }
});
