//! The consent API's OpenAPI document (`api/consent-api.openapi.yaml`)
//! against the wire types the widget and this server share
//! (`consent-api`): every schema names the same properties, and requires
//! the same ones, so the contract cannot drift from the code.

use std::collections::BTreeSet;

use serde_json::Value;
use utoipa::PartialSchema;

fn document() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../api/consent-api.openapi.yaml"
    );
    let text = std::fs::read_to_string(path).expect("the OpenAPI file");
    serde_yaml::from_str(&text).expect("the OpenAPI file is YAML")
}

/// Property names and required names of an object schema.
fn shape(schema: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let names = |v: &Value| -> BTreeSet<String> {
        match v {
            Value::Object(m) => m.keys().cloned().collect(),
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => BTreeSet::new(),
        }
    };
    (names(&schema["properties"]), names(&schema["required"]))
}

fn generated<T: PartialSchema>() -> Value {
    serde_json::to_value(T::schema()).unwrap()
}

fn check(doc: &Value, name: &str, code: Value) {
    let written = &doc["components"]["schemas"][name];
    assert!(
        written.is_object(),
        "{name} is missing from the OpenAPI file"
    );
    let (props, required) = shape(written);
    let (code_props, code_required) = shape(&code);
    assert_eq!(
        props, code_props,
        "{name}: properties differ from consent-api"
    );
    assert_eq!(
        required, code_required,
        "{name}: required properties differ from consent-api"
    );
}

#[test]
fn every_schema_matches_the_shared_types() {
    use consent_api::*;
    let doc = document();
    check(&doc, "Error", generated::<ApiError>());
    check(&doc, "ConsentContext", generated::<ConsentContext>());
    check(&doc, "ThirdParty", generated::<ThirdParty>());
    check(&doc, "ScopeOfUse", generated::<ScopeOfUse>());
    check(&doc, "SignIn", generated::<SignIn>());
    check(&doc, "IdentityProvider", generated::<IdentityProvider>());
    check(&doc, "SsoStart", generated::<SsoStart>());
    check(&doc, "OtpChallenge", generated::<OtpChallenge>());
    check(&doc, "Customer", generated::<Customer>());
    check(&doc, "Meter", generated::<Meter>());
    check(&doc, "Decision", generated::<Decision>());
    check(&doc, "DecisionResult", generated::<DecisionResult>());
    check(&doc, "Receipt", generated::<Receipt>());
    check(&doc, "CodeRequired", generated::<CodeRequired>());
    check(&doc, "CustomerSession", generated::<CustomerSession>());
    check(&doc, "AuthorizationList", generated::<AuthorizationList>());
}

#[test]
fn request_bodies_match_the_shared_types() {
    let doc = document();
    let body = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    let same = |path: &str, code: Value| {
        assert_eq!(shape(&body(path)), shape(&code), "request body of {path}");
    };
    same(
        "/api/consent/requests/{request_id}/sign-in/password",
        generated::<consent_api::PasswordSignIn>(),
    );
    same(
        "/api/consent/requests/{request_id}/sign-in/otp",
        generated::<consent_api::OtpStart>(),
    );
    same(
        "/api/consent/requests/{request_id}/sign-in/otp/{challenge_id}/verify",
        generated::<consent_api::OtpVerify>(),
    );
}

#[test]
fn the_documented_enums_are_the_typed_ones() {
    let doc = document();
    let enum_of = |v: &Value| -> BTreeSet<String> {
        v["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no enum in {v}"))
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect()
    };
    let s = &doc["components"]["schemas"];
    let methods: BTreeSet<String> = consent_api::Method::ALL
        .iter()
        .map(|m| m.as_str().to_string())
        .collect();
    assert_eq!(
        enum_of(&s["SignIn"]["properties"]["methods"]["items"]),
        methods
    );
    assert_eq!(
        enum_of(&s["SsoError"]),
        consent_api::SsoError::ALL
            .map(|e| e.as_str().to_string())
            .into()
    );
    assert_eq!(
        enum_of(&s["OtpChallenge"]["properties"]["channel"]),
        ["sms", "email"].map(String::from).into()
    );
    assert_eq!(
        enum_of(&s["DecisionResult"]["properties"]["outcome"]),
        ["authorized", "declined"].map(String::from).into()
    );
    assert_eq!(
        enum_of(&s["Receipt"]["properties"]["status"]),
        ["active", "revoked", "expired"].map(String::from).into()
    );
    // Every error code a response documents (in backticks) is a typed one.
    let mut responses: Vec<&Value> = doc["components"]["responses"]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    for path in doc["paths"].as_object().unwrap().values() {
        for op in path.as_object().unwrap().values() {
            if let Some(r) = op["responses"].as_object() {
                responses.extend(r.values());
            }
        }
    }
    // Field names of the Error body are quoted too.
    let (fields, _) = shape(&s["Error"]);
    let mut seen = 0;
    for r in responses {
        let description = r["description"].as_str().unwrap_or_default();
        let codes = description.split('`').skip(1).step_by(2);
        let is_code = |w: &&str| w.bytes().all(|c| c.is_ascii_lowercase() || c == b'_');
        for code in codes.filter(is_code).filter(|w| !fields.contains(*w)) {
            seen += 1;
            assert!(
                consent_api::ErrorCode::ALL
                    .iter()
                    .any(|c| c.as_str() == code),
                "the OpenAPI file documents `{code}`, which consent_api::ErrorCode lacks"
            );
        }
    }
    assert!(seen > 10, "only {seen} documented error codes found");
}
