//! ERC-5573 (ReCap) capability objects: the `urn:recap:` resource and the statement a wallet
//! shows for it.
//!
//! Written here rather than taken from crates.io's `siwe-recap` 0.2: that crate is built on
//! `siwe` 0.5 (its `Message` is not 0.6's), and its `cid` 0.10 requires `core2` 0.4, whose only
//! release is yanked, so it does not resolve on a fresh lockfile. What ERC-5573 defines is small:
//! a JSON object `{"att": {resource: {ability: [nota-bene objects]}}, "prf": [CIDs]}` in JCS
//! (RFC 8785) canonical form, base64url without padding, and a statement generated from it. The
//! npm `siwe-recap` reference implementation reads what this writes and the other way round
//! (tests/npm_round_trip.rs).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The prefix of a ReCap resource URI.
pub const RECAP_PREFIX: &str = "urn:recap:";

/// The statement's fixed opening (ERC-5573, "ReCap Statement").
const STATEMENT_OPENING: &str =
    "I further authorize the stated URI to perform the following actions on my behalf:";

/// Nota-bene objects of one ability: conditions the delegate must meet (ERC-5573 "nb").
pub type NotaBene = Vec<Map<String, Value>>;

/// Why a ReCap object could not be built or read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecapError {
    /// The resource URI does not start with `urn:recap:`.
    #[error("a ReCap resource starts with `urn:recap:`; found `{found}`")]
    NotRecap {
        /// The first characters of what was found.
        found: String,
    },
    /// The base64url part does not decode.
    #[error("ReCap base64url payload does not decode: {0}")]
    Base64(String),
    /// The decoded payload is not the ReCap JSON shape.
    #[error(
        "ReCap payload is not {{\"att\": {{uri: {{ability: [object…]}}}}, \"prf\": [string…]}}: {0}"
    )]
    Shape(String),
    /// An ability is not `namespace/name` of `[a-zA-Z0-9.*_+-]`.
    #[error("ability `{ability}` is not `namespace/name` with characters a-z A-Z 0-9 . * _ + -")]
    Ability {
        /// The ability.
        ability: String,
    },
    /// A resource is not an ASCII URI with a scheme.
    #[error(
        "resource `{resource}` is not a URI (`scheme:…`, printable ASCII, no spaces or quotes)"
    )]
    Resource {
        /// The resource.
        resource: String,
    },
    /// The payload is not in canonical form: signing it would not say one thing.
    #[error("ReCap payload is not in JCS canonical form (keys sorted, no whitespace)")]
    NotCanonical,
    /// A nota-bene holds a number that is not an integer; its canonical form is not portable.
    #[error("nota-bene numbers must be integers; found {number}")]
    NonIntegerNumber {
        /// The number.
        number: String,
    },
}

/// One ReCap object: what the stated URI (the delegate) may do, per resource and ability.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recap {
    attenuations: BTreeMap<String, BTreeMap<String, NotaBene>>,
    proofs: Vec<String>,
}

impl Recap {
    /// An empty capability object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grants `ability` (`namespace/name`) over `resource`, with one nota-bene object (`{}` for
    /// none). Granting the same pair again adds another nota-bene object, as ERC-5573 merges.
    pub fn grant(
        &mut self,
        resource: &str,
        ability: &str,
        nota_bene: Map<String, Value>,
    ) -> Result<(), RecapError> {
        check_resource(resource)?;
        check_ability(ability)?;
        check_integers(&Value::Object(nota_bene.clone()))?;
        self.attenuations
            .entry(resource.to_owned())
            .or_default()
            .entry(ability.to_owned())
            .or_default()
            .push(nota_bene);
        Ok(())
    }

    /// Resource URI → ability → nota-bene objects, sorted.
    pub fn attenuations(&self) -> &BTreeMap<String, BTreeMap<String, NotaBene>> {
        &self.attenuations
    }

    /// The CIDs of the parent delegations (empty for a capability the signer holds itself).
    pub fn proofs(&self) -> &[String] {
        &self.proofs
    }

    /// Whether it grants nothing.
    pub fn is_empty(&self) -> bool {
        self.attenuations.is_empty()
    }

    /// The `urn:recap:` resource URI.
    pub fn encode(&self) -> String {
        let mut json = String::from("{\"att\":{");
        for (i, (resource, abilities)) in self.attenuations.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            write_string(&mut json, resource);
            json.push_str(":{");
            for (j, (ability, nota_bene)) in abilities.iter().enumerate() {
                if j > 0 {
                    json.push(',');
                }
                write_string(&mut json, ability);
                json.push(':');
                let objects = nota_bene.iter().cloned().map(Value::Object).collect();
                write_canonical(&mut json, &Value::Array(objects));
            }
            json.push('}');
        }
        json.push_str("},\"prf\":");
        let proofs = self.proofs.iter().cloned().map(Value::String).collect();
        write_canonical(&mut json, &Value::Array(proofs));
        json.push('}');
        format!("{RECAP_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// Reads a `urn:recap:` resource URI. Only the canonical form is accepted, so one capability
    /// has one encoding and what the signer saw is what is checked.
    pub fn decode(uri: &str) -> Result<Self, RecapError> {
        let payload = uri
            .strip_prefix(RECAP_PREFIX)
            .ok_or_else(|| RecapError::NotRecap {
                found: uri.chars().take(16).collect(),
            })?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| RecapError::Base64(e.to_string()))?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| RecapError::Shape(e.to_string()))?;
        let recap = Self::from_json(value)?;
        if recap.encode() != uri {
            return Err(RecapError::NotCanonical);
        }
        Ok(recap)
    }

    fn from_json(value: Value) -> Result<Self, RecapError> {
        let shape = |what: &str| RecapError::Shape(what.to_owned());
        let Value::Object(mut object) = value else {
            return Err(shape("not an object"));
        };
        let Some(Value::Object(att)) = object.remove("att") else {
            return Err(shape("`att` is not an object"));
        };
        let Some(Value::Array(prf)) = object.remove("prf") else {
            return Err(shape("`prf` is not an array"));
        };
        if let Some(key) = object.keys().next() {
            return Err(RecapError::Shape(format!("unknown field `{key}`")));
        }
        let mut recap = Self::new();
        for (resource, abilities) in att {
            let Value::Object(abilities) = abilities else {
                return Err(RecapError::Shape(format!("`{resource}` is not an object")));
            };
            for (ability, nota_bene) in abilities {
                let Value::Array(objects) = nota_bene else {
                    return Err(RecapError::Shape(format!("`{ability}` is not an array")));
                };
                check_resource(&resource)?;
                check_ability(&ability)?;
                let mut list = Vec::with_capacity(objects.len());
                for object in objects {
                    let Value::Object(object) = object else {
                        return Err(RecapError::Shape(format!(
                            "a nota-bene of `{ability}` is not an object"
                        )));
                    };
                    list.push(object);
                }
                recap
                    .attenuations
                    .entry(resource.clone())
                    .or_default()
                    .insert(ability, list);
            }
        }
        for proof in prf {
            let Value::String(proof) = proof else {
                return Err(shape("a proof is not a string"));
            };
            recap.proofs.push(proof);
        }
        Ok(recap)
    }

    /// The ReCap statement (ERC-5573): `I further authorize the stated URI to perform the
    /// following actions on my behalf: (1) 'ns': 'a', 'b' for 'resource'. (2) …`, one numbered
    /// part per resource and ability namespace, in sorted order.
    pub fn statement(&self) -> String {
        let mut statement = String::from(STATEMENT_OPENING);
        let mut section = 1;
        for (resource, abilities) in &self.attenuations {
            let mut namespaces: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for ability in abilities.keys() {
                // check_ability guarantees the slash.
                let (namespace, name) = ability.split_once('/').unwrap_or((ability, ""));
                namespaces.entry(namespace).or_default().push(name);
            }
            for (namespace, names) in namespaces {
                let names: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
                statement.push_str(&format!(
                    " ({section}) '{namespace}': {} for '{resource}'.",
                    names.join(", ")
                ));
                section += 1;
            }
        }
        statement
    }
}

/// `[a-zA-Z0-9.*_+-]+`, as ERC-5573's reference implementation checks ability parts.
fn valid_part(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._*+-".contains(&b))
}

fn check_ability(ability: &str) -> Result<(), RecapError> {
    match ability.split_once('/') {
        Some((namespace, name)) if valid_part(namespace) && valid_part(name) => Ok(()),
        _ => Err(RecapError::Ability {
            ability: ability.to_owned(),
        }),
    }
}

/// A URI's scheme and printable ASCII without the characters that would break the statement's
/// quoting or the SIWE resource list. Full RFC 3986 parsing happens where SIWE reads the message.
fn check_resource(resource: &str) -> Result<(), RecapError> {
    let scheme_ok = resource.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    let chars_ok = resource
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"'\"\\<>`{}|^".contains(&b));
    if scheme_ok && chars_ok {
        Ok(())
    } else {
        Err(RecapError::Resource {
            resource: resource.to_owned(),
        })
    }
}

fn check_integers(value: &Value) -> Result<(), RecapError> {
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => Err(RecapError::NonIntegerNumber {
            number: n.to_string(),
        }),
        Value::Array(items) => items.iter().try_for_each(check_integers),
        Value::Object(map) => map.values().try_for_each(check_integers),
        _ => Ok(()),
    }
}

/// JCS (RFC 8785) for JSON without fractional numbers: object keys sorted by UTF-16 code units,
/// no whitespace, strings escaped as ECMAScript's `JSON.stringify` does.
fn write_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_canonical(out, &map[key]);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::String(s) => write_string(out, s),
        // Integers, booleans and null print the same in serde_json and ECMAScript.
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON string as `JSON.stringify` writes it (RFC 8785 §3.2.2.2).
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn statement_groups_abilities_by_namespace_in_sorted_order() {
        let mut recap = Recap::new();
        recap
            .grant("https://example.com/pictures/", "crud/read", Map::new())
            .expect("ok");
        recap
            .grant("https://example.com/pictures/", "crud/delete", Map::new())
            .expect("ok");
        recap
            .grant("https://example.com/pictures/", "other/action", Map::new())
            .expect("ok");
        recap
            .grant("mailto:username@example.com", "msg/send", Map::new())
            .expect("ok");
        // The example of ERC-5573's "ReCap Statement" section.
        assert_eq!(
            recap.statement(),
            "I further authorize the stated URI to perform the following actions on my behalf: \
             (1) 'crud': 'delete', 'read' for 'https://example.com/pictures/'. \
             (2) 'other': 'action' for 'https://example.com/pictures/'. \
             (3) 'msg': 'send' for 'mailto:username@example.com'."
        );
    }

    #[test]
    fn encoding_is_canonical_json_in_base64url() {
        let mut recap = Recap::new();
        recap
            .grant(
                "litAction://*",
                "lit-action-execution/*",
                object(json!({"z": 1, "a": "x"})),
            )
            .expect("ok");
        let urn = recap.encode();
        let payload = URL_SAFE_NO_PAD
            .decode(urn.strip_prefix(RECAP_PREFIX).expect("ok"))
            .expect("ok");
        assert_eq!(
            String::from_utf8(payload).expect("ok"),
            r#"{"att":{"litAction://*":{"lit-action-execution/*":[{"a":"x","z":1}]}},"prf":[]}"#
        );
        assert_eq!(Recap::decode(&urn).expect("ok"), recap);
    }

    #[test]
    fn refuses_non_canonical_and_malformed_payloads() {
        let encode = |json: &str| format!("{RECAP_PREFIX}{}", URL_SAFE_NO_PAD.encode(json));
        let spaced = encode(r#"{"att": {}, "prf": []}"#);
        assert_eq!(Recap::decode(&spaced), Err(RecapError::NotCanonical));
        let unsorted = encode(r#"{"att":{"b:x":{"a/b":[{}]},"a:x":{"a/b":[{}]}},"prf":[]}"#);
        assert_eq!(Recap::decode(&unsorted), Err(RecapError::NotCanonical));
        let bad_ability = encode(r#"{"att":{"a:x":{"read":[{}]}},"prf":[]}"#);
        assert!(matches!(
            Recap::decode(&bad_ability),
            Err(RecapError::Ability { .. })
        ));
        let no_prf = encode(r#"{"att":{}}"#);
        assert!(matches!(Recap::decode(&no_prf), Err(RecapError::Shape(_))));
        assert!(matches!(
            Recap::decode("urn:other:x"),
            Err(RecapError::NotRecap { .. })
        ));
        assert!(matches!(
            Recap::decode("urn:recap:%%"),
            Err(RecapError::Base64(_))
        ));
    }

    #[test]
    fn refuses_what_would_break_the_statement() {
        let mut recap = Recap::new();
        let quote = recap.grant("https://x/'y", "a/b", Map::new());
        assert!(matches!(quote, Err(RecapError::Resource { .. })));
        let no_scheme = recap.grant("/orders", "a/b", Map::new());
        assert!(matches!(no_scheme, Err(RecapError::Resource { .. })));
        let float = recap.grant("https://x", "a/b", object(json!({"n": 1.5})));
        assert!(matches!(float, Err(RecapError::NonIntegerNumber { .. })));
    }

    proptest! {
        // The decoder is what an attacker reaches: whatever bytes follow the prefix, it returns
        // an error or an object that encodes back to exactly the input.
        #[test]
        fn decode_accepts_only_what_it_would_write(payload in proptest::collection::vec(any::<u8>(), 0..256)) {
            let uri = format!("{RECAP_PREFIX}{}", URL_SAFE_NO_PAD.encode(&payload));
            if let Ok(recap) = Recap::decode(&uri) {
                prop_assert_eq!(recap.encode(), uri);
            }
        }

        #[test]
        fn decode_round_trips_every_granted_object(
            grants in proptest::collection::vec(
                ("[a-z][a-z0-9+.-]{0,6}://[a-zA-Z0-9/*._-]{0,12}", "[a-z*]{1,5}/[a-z*-]{1,5}", "[a-z\u{e9}\u{1F600}]{0,4}", any::<i64>()),
                0..6,
            )
        ) {
            let mut recap = Recap::new();
            for (resource, ability, key, number) in grants {
                recap.grant(&resource, &ability, object(json!({ key: number }))).expect("ok");
            }
            prop_assert_eq!(Recap::decode(&recap.encode()).expect("ok"), recap);
        }
    }
}
