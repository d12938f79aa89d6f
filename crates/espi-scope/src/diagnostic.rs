//! Diagnostics: what was odd or wrong in an input, where, and why.

use core::fmt;
use core::ops::Range;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Severity {
    /// The input cannot be used as it is (the strict readers fail).
    Error,
    /// The input was read, but something about it is unusual.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! codes {
    ($( $(#[$m:meta])* $name:ident => $code:literal, $sev:ident; )*) => {
        /// A stable, machine-readable diagnostic code.
        ///
        /// The kebab-case strings from [`DiagnosticCode::as_str`] are stable:
        /// they are part of the JSON output of `gbscope` and may be matched on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum DiagnosticCode {
            $( $(#[$m])* $name, )*
        }

        impl DiagnosticCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [DiagnosticCode] = &[$(DiagnosticCode::$name,)*];

            /// The stable kebab-case code, e.g. `"empty-input"`.
            pub fn as_str(&self) -> &'static str {
                match self { $( DiagnosticCode::$name => $code, )* }
            }

            /// The severity this code is always reported with.
            pub fn severity(&self) -> Severity {
                match self { $( DiagnosticCode::$name => Severity::$sev, )* }
            }

            /// The code for a kebab-case string.
            pub fn from_code(s: &str) -> Option<DiagnosticCode> {
                match s { $( $code => Some(DiagnosticCode::$name), )* _ => None }
            }
        }
    };
}

codes! {
    /// The input is empty or holds only spaces and separators.
    EmptyInput => "empty-input", Error;
    /// An ESPI scope has terms but no `FB=` term.
    MissingFunctionBlocks => "missing-function-blocks", Error;
    /// `FB=` has no function block numbers.
    EmptyFunctionBlocks => "empty-function-blocks", Error;
    /// A function block is not a number (or is too large to be one).
    InvalidFunctionBlock => "invalid-function-block", Error;
    /// `HistoryLength`, `AccountCollection` or `PreferredAuthEndDate` is not a
    /// whole number.
    InvalidNumber => "invalid-number", Error;
    /// A duration is neither a number of seconds nor a named frequency.
    InvalidDuration => "invalid-duration", Error;
    /// An authorization URL lacks a required parameter.
    MissingParameter => "missing-parameter", Error;
    /// An authorization URL repeats a parameter (RFC 6749 forbids it).
    DuplicateParameter => "duplicate-parameter", Error;
    /// The text is not an authorization URL with a query string.
    InvalidUrl => "invalid-url", Error;
    /// The value holds plain OAuth scopes but no ESPI scope.
    NoEspiScope => "no-espi-scope", Warning;
    /// The value was percent-encoded (`%3D`, `%3B`, `+`) and was decoded.
    PercentEncoded => "percent-encoded", Warning;
    /// A `%` is not followed by two hex digits, or decodes to invalid UTF-8.
    InvalidPercentEncoding => "invalid-percent-encoding", Warning;
    /// Spaces around `=` or `;`, or at the start or end.
    ExtraWhitespace => "extra-whitespace", Warning;
    /// An empty term between two separators (`;;`), or a keyless `=x`.
    EmptyTerm => "empty-term", Warning;
    /// A `;` (or `,`) at the end of a scope.
    TrailingSeparator => "trailing-separator", Warning;
    /// A known key not written in its canonical case (`fb`, `historyLength`).
    KeyCase => "key-case", Warning;
    /// A named value not written in its canonical case (`Daily`).
    ValueCase => "value-case", Warning;
    /// A `key=value` term with a key the grammar does not define.
    UnknownKey => "unknown-key", Warning;
    /// A word without `=` inside an ESPI scope.
    BareWord => "bare-word", Warning;
    /// The same key twice in one scope.
    DuplicateTerm => "duplicate-term", Warning;
    /// A known key without a value (`HistoryLength=`).
    MissingValue => "missing-value", Warning;
    /// Function blocks not in ascending order.
    UnsortedFunctionBlocks => "unsorted-function-blocks", Warning;
    /// The same function block twice.
    DuplicateFunctionBlock => "duplicate-function-block", Warning;
    /// A function block deprecated in ESPI 4.0.
    DeprecatedFunctionBlock => "deprecated-function-block", Warning;
    /// An id (20-26, 42, 43, 45) that is not a scope term.
    NotAScopeTerm => "not-a-scope-term", Warning;
    /// A function block id outside the catalog (0 or above 70).
    UnknownFunctionBlock => "unknown-function-block", Warning;
    /// An empty item in a `_` list (`4__5`, `4_`).
    EmptyListItem => "empty-list-item", Warning;
    /// Commas used as separators (legacy 2013 form).
    CommaSeparator => "comma-separator", Warning;
    /// Terms not separated by `;` (run together or separated by spaces).
    MissingSeparator => "missing-separator", Warning;
    /// Scopes joined by `|` instead of a space.
    PipeSeparator => "pipe-separator", Warning;
    /// A second `FB=` after `;` starts a new scope.
    JoinedScopes => "joined-scopes", Warning;
    /// Longer than 256 characters (the ESPI `scope` field is a String256).
    TooLong => "too-long", Warning;
    /// A character RFC 6749 does not allow in a scope (control, quote,
    /// backslash, non-ASCII).
    InvalidCharacter => "invalid-character", Warning;
    /// A `BR` value with characters other than letters, digits and `-`.
    InvalidBulkId => "invalid-bulk-id", Warning;
    /// `meters-all` together with listed meters.
    ConflictingMeters => "conflicting-meters", Warning;
    /// A small `HistoryLength` that was probably meant as a count, not
    /// seconds (OpenESPI samples use `13`).
    AmbiguousHistoryLength => "ambiguous-history-length", Warning;
    /// A `PreferredAuthEndDate` that looks like milliseconds.
    ImplausibleEndDate => "implausible-end-date", Warning;
    /// An authorization URL whose `response_type` is not `code`.
    UnsupportedResponseType => "unsupported-response-type", Warning;
    /// An authorization URL without `state` (needed against CSRF).
    MissingState => "missing-state", Warning;
}

impl fmt::Display for DiagnosticCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for DiagnosticCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for DiagnosticCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        DiagnosticCode::from_code(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown diagnostic code {s:?}")))
    }
}

/// One finding about an input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable machine-readable code.
    pub code: DiagnosticCode,
    /// A sentence a non-expert understands, naming the problem.
    pub message: String,
    /// Byte offsets into the ORIGINAL input (before any percent-decoding).
    pub span: Range<usize>,
}

impl Diagnostic {
    /// A diagnostic with the code's own severity.
    pub fn new(code: DiagnosticCode, message: impl Into<String>, span: Range<usize>) -> Diagnostic {
        Diagnostic {
            severity: code.severity(),
            code,
            message: message.into(),
            span,
        }
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] at {}..{}: {}",
            self.severity, self.code, self.span.start, self.span.end, self.message
        )
    }
}

/// Sorts diagnostics by span (start, then end), keeping the order of
/// diagnostics with equal spans: the same result as a stable
/// `sort_by_key(|d| (d.span.start, d.span.end))`.
pub(crate) fn sort_by_span(diags: &mut [Diagnostic]) {
    #[cfg(not(target_family = "wasm"))]
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    // In WebAssembly (the consent widget, the playground) a plain insertion
    // sort: the standard stable sort is several KB of code there, and
    // diagnostics are few and nearly in order already.
    #[cfg(target_family = "wasm")]
    insertion_sort_by_span(diags);
}

/// A stable insertion sort by span (see [`sort_by_span`]).
#[cfg_attr(not(any(target_family = "wasm", test)), allow(dead_code))]
fn insertion_sort_by_span(diags: &mut [Diagnostic]) {
    for i in 1..diags.len() {
        let mut j = i;
        while j > 0
            && (diags[j - 1].span.start, diags[j - 1].span.end)
                > (diags[j].span.start, diags[j].span.end)
        {
            diags.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// What went wrong in a strict read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input has at least one error diagnostic (see
    /// [`ParseError::diagnostics`]).
    Invalid,
    /// The input is valid but does not hold exactly one ESPI scope and
    /// nothing else (from `EspiScope::from_str`).
    NotExactlyOneScope {
        /// ESPI scopes found.
        espi_scopes: usize,
        /// Other OAuth scopes found.
        other_scopes: usize,
    },
}

/// The error of the strict readers (`FromStr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    diagnostics: Vec<Diagnostic>,
}

impl ParseError {
    pub(crate) fn from_diagnostics(diagnostics: Vec<Diagnostic>) -> ParseError {
        ParseError {
            kind: ParseErrorKind::Invalid,
            diagnostics,
        }
    }

    pub(crate) fn not_one_scope(espi_scopes: usize, other_scopes: usize) -> ParseError {
        ParseError {
            kind: ParseErrorKind::NotExactlyOneScope {
                espi_scopes,
                other_scopes,
            },
            diagnostics: Vec::new(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// Every diagnostic of the input (errors and warnings).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseErrorKind::Invalid => {
                let errors: Vec<&Diagnostic> =
                    self.diagnostics.iter().filter(|d| d.is_error()).collect();
                match errors.first() {
                    Some(d) => {
                        write!(f, "invalid scope: {}", d.message)?;
                        if errors.len() > 1 {
                            write!(f, " (and {} more errors)", errors.len() - 1)?;
                        }
                        Ok(())
                    }
                    None => f.write_str("invalid scope"),
                }
            }
            ParseErrorKind::NotExactlyOneScope {
                espi_scopes,
                other_scopes,
            } => write!(
                f,
                "expected exactly one Green Button scope, found {espi_scopes} Green Button scope(s) and {other_scopes} other scope(s)"
            ),
        }
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertion_sort_matches_the_stable_sort() {
        // A small deterministic generator: many equal spans, to check
        // stability (messages record the original order).
        let mut x: u32 = 12345;
        for len in 0..40 {
            let mut diags: Vec<Diagnostic> = (0..len)
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let start = ((x >> 16) % 5) as usize;
                    let end = start + ((x >> 8) % 3) as usize;
                    Diagnostic::new(DiagnosticCode::EmptyTerm, i.to_string(), start..end)
                })
                .collect();
            let mut expected = diags.clone();
            expected.sort_by_key(|d| (d.span.start, d.span.end));
            insertion_sort_by_span(&mut diags);
            assert_eq!(diags, expected);
        }
    }
}
