//! The command line: admin subcommands print JSON; bad arguments give a
//! clear message and exit status 2.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_datacustodian"))
        .args(args)
        .env(
            "DATACUSTODIAN_DATABASE_URL",
            format!("sqlite://{}", dir.join("cli.sqlite").display()),
        )
        .env_remove("DATACUSTODIAN_KEY_FILE")
        .output()
        .expect("run the binary")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn client_add_list_rotate_remove() {
    let dir = tempfile::tempdir().expect("dir");
    let o = run(
        dir.path(),
        &[
            "client",
            "add",
            "--name",
            "Solar Co",
            "--redirect-uri",
            "https://solar.example/cb",
            "--scope",
            "FB=1_4_16_51;HistoryLength=63072000",
            "--scope-of-use",
            "solar-sizing=Sizes your solar system|https://solar.example/use",
            "--frame-ancestor",
            "https://portal.example.com",
            "--logo-uri",
            "https://solar.example/logo.png",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let id = v["client_id"].as_str().expect("id").to_string();
    assert!(v["client_secret"].as_str().is_some_and(|s| s.len() >= 43));
    let o = run(dir.path(), &["client", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(list[0]["client_id"], serde_json::json!(id));
    assert_eq!(
        list[0]["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("secret"),
        "list never shows secrets"
    );
    let o = run(dir.path(), &["client", "rotate-secret", &id]);
    assert!(o.status.success());
    assert_ne!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("JSON")["client_secret"],
        v["client_secret"]
    );
    assert!(run(dir.path(), &["client", "remove", &id]).status.success());
    let o = run(dir.path(), &["client", "remove", &id]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        dir.path().join("cli.sqlite.key").exists(),
        "the key file is created beside the database"
    );
}

#[test]
fn customer_add_and_list() {
    let dir = tempfile::tempdir().expect("dir");
    let o = run(
        dir.path(),
        &[
            "customer",
            "add",
            "--username",
            "pat",
            "--password",
            "a long password",
            "--phone",
            "+15554443333",
            "--email",
            "pat@example.com",
            "--account-number",
            "42",
            "--zip",
            "10001",
            "--meter",
            "SA-1=Home",
            "--meter",
            "SA-2",
            "--address",
            "SA-1=1 Main St",
            "--service-kind",
            "SA-2=gas",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(dir.path(), &["customer", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(list[0]["username"], serde_json::json!("pat"));
    assert_eq!(
        list[0]["meters"][0]["address"],
        serde_json::json!("1 Main St")
    );
    assert_eq!(
        list[0]["meters"][1]["service_kind"],
        serde_json::json!("gas")
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("argon2"),
        "no password hashes"
    );
    assert!(
        run(dir.path(), &["customer", "remove", "pat"])
            .status
            .success()
    );
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("dir");
    for (args, needle) in [
        (
            vec![
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "not a url",
            ],
            "redirect URI",
        ),
        (
            vec![
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "https://x.example/cb#frag",
            ],
            "fragment",
        ),
        (vec!["client", "add", "--name", "X"], "redirect-uri"),
        (
            vec![
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "https://x/cb",
                "--scope",
                "FB=4_x",
            ],
            "scope",
        ),
        (
            vec![
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "https://x/cb",
                "--frame-ancestor",
                "*",
            ],
            "frame ancestor",
        ),
        (
            vec![
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "https://x/cb",
                "--grant-type",
                "implicit",
            ],
            "grant type",
        ),
        (
            vec!["client", "add", "--name", "X", "--kind", "admin"],
            "admin",
        ),
        (
            vec![
                "customer",
                "add",
                "--username",
                "u",
                "--password",
                "long enough",
            ],
            "meter",
        ),
        (
            vec!["customer", "add", "--account-number", "1", "--meter", "A"],
            "zip",
        ),
        (
            vec!["customer", "add", "--phone", "12", "--meter", "A"],
            "phone",
        ),
        (
            vec![
                "customer",
                "add",
                "--phone",
                "+15554443333",
                "--meter",
                "A_B",
            ],
            "meter id",
        ),
        (
            vec![
                "customer",
                "add",
                "--phone",
                "+15554443333",
                "--meter",
                "A",
                "--address",
                "B=x",
            ],
            "not given",
        ),
        (vec!["serve", "--listen", "nowhere"], "listen"),
        (vec!["serve", "--public-url", "ftp://x"], "public-url"),
        (vec!["frobnicate"], "frobnicate"),
        (vec!["serve", "--database", "mysql://x"], "postgres://"),
        (vec!["serve", "--database", "postgres://x"], "--key-file"),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--smtp-url",
                "smtp://127.0.0.1:25",
            ],
            "--smtp-from",
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--smtp-url",
                "http://relay.example",
                "--smtp-from",
                "a@b.example",
            ],
            "smtp:// or smtps://",
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--smtp-url",
                "smtp://127.0.0.1:25",
                "--smtp-from",
                "nobody",
            ],
            "--smtp-from",
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--smtp-url",
                "smtp://mailer:secret-in-url@127.0.0.1:25",
                "--smtp-from",
                "a@b.example",
                "--smtp-password-file",
                "/nonexistent/smtp-password",
            ],
            "/nonexistent/smtp-password",
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--smtp-password-file",
                "/x",
            ],
            "needs --smtp-url",
        ),
        // Codes in a file only when asked for: the error names the flags.
        (
            vec!["serve", "--listen", "127.0.0.1:0"],
            "--otp-outbox FILE or --demo",
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--sms-gateway-url",
                "ftp:x",
            ],
            "--sms-gateway-url",
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--sms-gateway-url",
                "https://api.example/Messages.json",
                "--sms-account-sid",
                "AC1",
                "--sms-from",
                "+15550001111",
            ],
            "--sms-auth-token-file",
        ),
        (
            vec![
                "serve",
                "--demo",
                "--oidc-provider",
                "my_idp=https://login.example,client-id=a",
            ],
            "letters, digits or -",
        ),
        (
            vec![
                "serve",
                "--demo",
                "--oidc-provider",
                "idp=https://login.example,client-id=a,frob=1",
            ],
            "frob",
        ),
        (
            vec![
                "serve",
                "--demo",
                "--oidc-provider",
                "idp=https://login.example",
            ],
            "client-id is missing",
        ),
    ] {
        let o = run(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        // The SMTP password never reaches the message.
        assert!(!err.contains("secret-in-url"), "{args:?}: {err}");
    }
}

#[test]
fn client_add_requires_pkce_unless_told_and_https_redirects() {
    let dir = tempfile::tempdir().expect("dir");
    let add = |name: &str, redirect: &str, extra: &[&str]| {
        let mut args = vec!["client", "add", "--name", name, "--redirect-uri", redirect];
        args.extend_from_slice(extra);
        run(dir.path(), &args)
    };
    assert!(add("Strict", "https://a.example/cb", &[]).status.success());
    let o = add("Lax", "https://b.example/cb", &["--no-require-pkce"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(dir.path(), &["client", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let mut pkce: Vec<(String, bool)> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_string(),
                c["require_pkce"].as_bool().expect("bool"),
            )
        })
        .collect();
    pkce.sort();
    assert_eq!(
        pkce,
        vec![("Lax".to_string(), false), ("Strict".to_string(), true)]
    );
    let o = add("Plain", "http://c.example/cb", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("must be https"), "{}", stderr(&o));
}

/// A CA and a server certificate for `auth.utility.test` (rcgen), written
/// as PEM files in `dir`; returns the CA certificate (DER).
fn test_certificate(dir: &Path) -> Vec<u8> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).expect("CA");
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["auth.utility.test".to_string()])
        .expect("params")
        .signed_by(&key, &ca, &ca_key)
        .expect("certificate");
    std::fs::write(dir.join("cert.pem"), leaf.pem() + &ca.pem()).expect("write");
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).expect("write");
    ca.der().to_vec()
}

/// `serve --tls-cert --tls-key`: HTTPS with the given certificate, `Secure`
/// `__Host-` session cookie and HSTS; plain HTTP on that port gets nothing.
#[tokio::test]
async fn serve_over_tls() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = test_certificate(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let public = format!("https://auth.utility.test:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_datacustodian"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--public-url", &public, "--demo"])
        .arg("--tls-cert")
        .arg(dir.path().join("cert.pem"))
        .arg("--tls-key")
        .arg(dir.path().join("key.pem"))
        .env(
            "DATACUSTODIAN_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("tls.sqlite").display()),
        )
        .env_remove("DATACUSTODIAN_KEY_FILE")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn the server");
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_der(&ca).expect("CA"))
        .tls_built_in_root_certs(false)
        .resolve(
            "auth.utility.test",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut metadata = None;
    for _ in 0..200 {
        if let Ok(r) = https
            .get(format!("{public}/.well-known/oauth-authorization-server"))
            .send()
            .await
        {
            metadata = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let r = metadata.expect("the server answers over https");
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("strict-transport-security"));
    let doc: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(doc["issuer"], serde_json::json!(public));
    // The demo's authorization URL, then the context read: the session
    // cookie is `__Host-` and `Secure`.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", datacustodian::admin::DEMO_CLIENT_ID)
        .append_pair("redirect_uri", &format!("{public}/playground/callback"))
        .append_pair("scope", datacustodian::admin::DEMO_SCOPE)
        .append_pair(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
        .append_pair("code_challenge_method", "S256")
        .finish();
    let authorize = format!("{public}/oauth/authorize?{query}");
    let r = https.get(&authorize).send().await.expect("authorize");
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let rid = location.split("request=").nth(1).expect("request id");
    let r = https
        .get(format!("{public}/api/consent/requests/{rid}"))
        .send()
        .await
        .expect("context");
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie");
    assert!(
        cookie.starts_with("__Host-gbcd_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    // Plain HTTP on the TLS port is not served.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(
        plain.map(|r| r.status() != 200).unwrap_or(true),
        "no plain HTTP on the TLS port"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn tls_flags_are_checked() {
    let dir = tempfile::tempdir().expect("dir");
    test_certificate(dir.path());
    let cert = dir.path().join("cert.pem").display().to_string();
    let key = dir.path().join("key.pem").display().to_string();
    let missing = dir.path().join("missing.pem").display().to_string();
    let public = "https://auth.utility.test:1";
    let cases: [(&[&str], &str); 5] = [
        (&["--tls-cert", &cert], "--tls-key"),
        (&["--tls-key", &key], "--tls-cert"),
        (&["--tls-cert", &missing, "--tls-key", &key], "missing.pem"),
        (&["--tls-cert", &key, "--tls-key", &key], "--tls-cert"),
        (&["--tls-cert", &cert, "--tls-key", &cert], "--tls-key"),
    ];
    for (flags, named) in cases {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--public-url", public];
        args.extend_from_slice(flags);
        let o = run(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(named),
            "{flags:?} names {named}: {}",
            stderr(&o)
        );
    }
    // TLS needs an https public URL.
    let o = run(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "http://127.0.0.1:1",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("https://"), "{}", stderr(&o));
}
