//! Runs the built `gbscope` binary: JSON shape and exit codes.
#![cfg(feature = "cli")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn gbscope(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gbscope"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gbscope");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("one JSON object on stdout")
}

#[test]
fn decode_json_shape() {
    let o = gbscope(
        &[
            "decode",
            "--json",
            "openid fb=16_4_46;IntervalDuration=Monthly_900;HistoryLength=63072000;PreferredAuthEndDate=1804204800;AdditionalScope=meters-all_sou-audit;dataCustodianId=PGE;Usage",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["diagnostics", "input", "other_scopes", "scopes"]);
    assert_eq!(v["other_scopes"], serde_json::json!(["openid"]));
    let s = &v["scopes"][0];
    assert_eq!(
        s["canonical"],
        "FB=4_16_46;IntervalDuration=monthly_900;HistoryLength=63072000;PreferredAuthEndDate=1804204800;AdditionalScope=meters-all_sou-audit;dataCustodianId=PGE;Usage"
    );
    assert_eq!(
        s["function_blocks"][0],
        serde_json::json!({"id": 4, "name": "Interval Metering", "status": "active", "role": "usage", "replaced_by": null,
            "description": "Your energy usage readings, measured at regular intervals"})
    );
    assert_eq!(s["function_blocks"][1]["role"], "bills");
    assert_eq!(s["function_blocks"][2]["status"], "deprecated");
    assert_eq!(s["function_blocks"][2]["replaced_by"], 51);
    assert_eq!(s["interval_durations"], serde_json::json!(["monthly", 900]));
    assert_eq!(s["block_durations"], serde_json::json!([]));
    assert_eq!(s["history_length"], 63072000);
    assert_eq!(s["subscription_frequency"], Value::Null);
    assert_eq!(s["account_collection"], Value::Null);
    assert_eq!(s["bulk_id"], Value::Null);
    assert_eq!(s["preferred_auth_end_date"], 1804204800u64);
    assert_eq!(
        s["additional_scope"],
        serde_json::json!([
            {"kind": "meters-all", "text": "meters-all", "value": null, "method": null},
            {"kind": "scope-of-use", "text": "sou-audit", "value": "audit", "method": null}
        ])
    );
    assert_eq!(
        s["extra_terms"],
        serde_json::json!([{"key": "dataCustodianId", "value": "PGE"}, {"key": null, "value": "Usage"}])
    );
    assert_eq!(s["no_edit"], false);
    assert_eq!(s["meter_request"]["kind"], "all");
    assert_eq!(s["scope_of_use"], "audit");
    assert_eq!(s["described"]["history_length"], "2 years of history");
    assert_eq!(s["described"]["preferred_auth_end_date"], "March 5, 2027");
    assert_eq!(
        s["described"]["interval_durations"],
        serde_json::json!(["monthly", "15 minutes"])
    );
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["code"], "key-case");
    assert_eq!(d["start"], 7);
    assert_eq!(d["end"], 9);
    assert_eq!(d["line"], 1);
    assert_eq!(d["column"], 8);
    assert!(d["message"].as_str().unwrap().contains("\"fb\""));
}

#[test]
fn decode_spanish() {
    let o = gbscope(
        &[
            "decode",
            "--json",
            "--lang",
            "es-MX",
            "FB=16;PreferredAuthEndDate=1804204800",
        ],
        None,
    );
    let v = json(&o);
    assert_eq!(
        v["scopes"][0]["function_blocks"][0]["description"],
        "Sus facturas y costos"
    );
    assert_eq!(
        v["scopes"][0]["described"]["preferred_auth_end_date"],
        "5 de marzo de 2027"
    );
}

#[test]
fn decode_from_stdin_and_exit_1_on_errors() {
    let o = gbscope(&["decode", "--json"], Some("FB=4_x\n"));
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["input"], "FB=4_x");
    assert_eq!(v["diagnostics"][0]["code"], "invalid-function-block");
    assert_eq!(v["diagnostics"][0]["severity"], "error");
    assert_eq!(v["diagnostics"][0]["start"], 5);

    let o = gbscope(&["decode"], Some(""));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("empty-input"));
}

#[test]
fn decode_table() {
    let o = gbscope(
        &[
            "decode",
            "FB=4_16;IntervalDuration=900; HistoryLength=63072000",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("scope 1: FB=4_16;IntervalDuration=900;HistoryLength=63072000"));
    assert!(out.contains("Usage Summary with Cost"));
    assert!(out.contains("bills"));
    assert!(out.contains("15 minutes"));
    assert!(out.contains("2 years of history"));
    assert!(out.contains("warning[extra-whitespace] line 1, column 30"));
    assert!(
        out.contains("\n                                 ^\n"),
        "{out}"
    );
}

#[test]
fn decode_url() {
    let url = "https://u.example/authorize?response_type=code&client_id=c1&redirect_uri=https%3A%2F%2Fapp%2Fcb&scope=openid+FB%3D4_16&state=xyz";
    let o = gbscope(&["decode", "--json", "--url", url], None);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    assert_eq!(v["input"], url);
    assert_eq!(v["request"]["client_id"], "c1");
    assert_eq!(v["request"]["redirect_uri"], "https://app/cb");
    assert_eq!(v["request"]["scope"], "openid FB=4_16");
    assert_eq!(v["other_scopes"][0], "openid");
    assert_eq!(v["scopes"][0]["canonical"], "FB=4_16");
    assert_eq!(v["diagnostics"], serde_json::json!([]));

    let o = gbscope(
        &[
            "decode",
            "--url",
            "https://u.example/authorize?client_id=c1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let o = gbscope(
        &[
            "decode",
            "--url=https://u.example/x?response_type=code&client_id=c&redirect_uri=r&scope=FB%3D4",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("missing-state"));
}

#[test]
fn url_with_pkce() {
    let o = gbscope(
        &[
            "url",
            "--endpoint",
            "https://u.example/authorize",
            "--client-id",
            "c1",
            "--redirect-uri",
            "https://app/cb",
            "--scope",
            "FB=4_16",
            "--state",
            "s1",
            "--pkce",
            "--json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    let verifier = v["code_verifier"].as_str().unwrap();
    assert!(verifier.len() >= 43);
    assert!(
        verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let challenge = v["code_challenge"].as_str().unwrap();
    assert_eq!(challenge.len(), 43);
    assert_eq!(v["code_challenge_method"], "S256");
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with("https://u.example/authorize?response_type=code&client_id=c1&redirect_uri=https%3A%2F%2Fapp%2Fcb&scope=FB%3D4_16&state=s1&code_challenge="));
    assert!(url.ends_with("&code_challenge_method=S256"));

    let o = gbscope(
        &[
            "url",
            "--endpoint",
            "https://u.example/a",
            "--client-id",
            "c",
            "--redirect-uri",
            "r",
            "--scope",
            "FB=4",
            "--pkce",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("code_verifier: "));
    assert!(String::from_utf8_lossy(&o.stdout).contains("&code_challenge_method=S256"));
}

#[test]
fn url_with_bad_scope_exits_1() {
    let o = gbscope(
        &[
            "url",
            "--endpoint",
            "https://u.example/a",
            "--client-id",
            "c",
            "--redirect-uri",
            "r",
            "--scope",
            "HistoryLength=1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing-function-blocks"));
}

#[test]
fn usage_mistakes_exit_2() {
    for args in [
        &[][..],
        &["frobnicate"][..],
        &["decode", "--bogus"][..],
        &["decode", "--lang"][..],
        &["decode", "--lang", "fr", "FB=4"][..],
        &["decode", "a", "b"][..],
        &["decode", "--url", "u", "FB=4"][..],
        &["url", "--endpoint", "e"][..],
        &["url", "--nope"][..],
    ] {
        let o = gbscope(args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("USAGE"), "{args:?}");
        assert!(!err.contains("panicked"));
    }
    let o = gbscope(&["--help"], None);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn odd_input_never_panics() {
    for s in [
        "\u{0}",
        "%FF%FE",
        "FB=4;\u{202e}x",
        "||||",
        "=;=;=",
        "FB=99999999999999999999999",
        "é%C3",
    ] {
        let mut runs = vec![gbscope(&["decode", "--json"], Some(s))];
        if !s.contains('\0') {
            runs.push(gbscope(&["decode", "--json", s], None));
        }
        for o in runs {
            assert!(matches!(o.status.code(), Some(0 | 1)), "{s:?}");
            let _ = json(&o);
            assert!(o.stderr.is_empty(), "{s:?}");
        }
    }
}
