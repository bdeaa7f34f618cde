//! A leash grant as a SIWE (ERC-4361) message whose ReCap (ERC-5573) resource encodes it, and
//! back: what a wallet shows and signs with `personal_sign`.
//!
//! The message's URI names the session key as `did:pkh:eip155:<chain id>:<key address>` (the
//! delegate ReCap's statement calls "the stated URI"); the on-chain session, when there is one,
//! is the resource `leash://<validator>/<session id>?salt=<salt>` with one ability
//! `session/<permission type>` per Wallet API permission type; other resources are the
//! application's own, Lit-style `<scheme>://<resource>` with `namespace/name` abilities.
//! docs/session-signatures.md specifies the scheme.

use crate::recap::{NotaBene, Recap, RecapError};
use alloy_primitives::{Address, B256, U256};
use leash_core::{grant::GrantDomain, permission::Permission, session_state::GrantRecord};
use serde_json::{Map, Value};
use siwe::{Message, TimeStamp, Version};
use time::OffsetDateTime;

/// The URI scheme of an on-chain leash session inside a ReCap object.
pub const LEASH_SCHEME: &str = "leash";
/// The ability namespace of an on-chain session's permissions.
pub const SESSION_NAMESPACE: &str = "session";
/// The nota-bene field that keeps a permission's position in the grant (its order is part of
/// the EIP-712 session id, and ReCap sorts abilities).
const POSITION: &str = "position";

/// Why a grant could not be rendered or a SIWE message read as one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// The text is not an ERC-4361 message.
    #[error("not a SIWE (ERC-4361) message: {0}")]
    Siwe(#[from] siwe::ParseError),
    /// The text parses, but printing it back gives other text: what is checked would not be what
    /// was signed.
    #[error(
        "the SIWE message is not in its canonical form (it differs from its own rendering at byte {at})"
    )]
    NotCanonical {
        /// The first byte that differs.
        at: usize,
    },
    /// The ReCap resource or its statement is wrong.
    #[error(transparent)]
    Recap(#[from] RecapError),
    /// The statement does not end with the statement the ReCap object gives: the wallet showed
    /// something other than what is granted.
    #[error(
        "the statement does not end with the ReCap statement of its capabilities: expected `{expected}`"
    )]
    StatementMismatch {
        /// The statement the ReCap object gives.
        expected: String,
    },
    /// The last resource is not a `urn:recap:` URI.
    #[error("the message grants no capabilities: its last resource is not a `urn:recap:` URI")]
    NoCapabilities,
    /// The URI does not name a session key.
    #[error("URI `{uri}` does not name a session key as did:pkh:eip155:<chain id>:<address>")]
    NotASessionKey {
        /// The URI.
        uri: String,
    },
    /// The URI's chain is not the message's.
    #[error("URI names chain {uri_chain}, the message's Chain ID is {chain_id}")]
    UriChain {
        /// The chain in the URI.
        uri_chain: u64,
        /// The message's chain id.
        chain_id: u64,
    },
    /// No expiration: a session capability must end.
    #[error("the message has no Expiration Time; a session capability must expire")]
    NoExpiration,
    /// A time outside what a timestamp can hold.
    #[error("time {seconds} is out of range")]
    Time {
        /// Unix seconds.
        seconds: i64,
    },
    /// A `leash://` resource that does not follow the scheme.
    #[error("`{resource}` is not leash://<validator>/<session id>?salt=<salt>")]
    LeashResource {
        /// The resource.
        resource: String,
    },
    /// Two on-chain sessions in one message.
    #[error("more than one leash:// session in one message")]
    SeveralSessions,
    /// A `session/…` permission whose nota-bene does not decode.
    #[error("permission `{ability}` does not decode: {reason}")]
    Permission {
        /// The ability.
        ability: String,
        /// Why.
        reason: String,
    },
    /// The session id in the resource is not the grant's.
    #[error("the resource names session {stated}, the grant it encodes is session {computed}")]
    SessionIdMismatch {
        /// The id in the URI.
        stated: B256,
        /// The id computed from the grant.
        computed: B256,
    },
    /// A field the SIWE grammar refuses (a domain, URI or statement).
    #[error("{field} `{value}` is not valid in a SIWE message")]
    Field {
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
    },
}

/// An on-chain leash session, as the grant's `leash://` resource carries it: with the message's
/// owner, session key, chain and window it is the whole EIP-712 grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainGrant {
    /// The `SessionKeyValidator`.
    pub validator: Address,
    /// The grant's salt.
    pub salt: U256,
    /// The permissions, in the grant's order.
    pub permissions: Vec<Permission>,
}

/// A session capability: who grants what to which session key, for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionCapability {
    /// The backend's RFC 3986 authority (`api.example.com`): a verifier accepts only its own.
    pub domain: String,
    /// The owner: the account that signs (an EOA, a 7702 account, or a smart account).
    pub owner: Address,
    /// The session key the capability is delegated to.
    pub session_key: Address,
    /// The chain on which the owner's signature and the on-chain session are checked.
    pub chain_id: u64,
    /// Text the wallet shows before the ReCap statement.
    pub statement: Option<String>,
    /// The SIWE nonce (at least 8 alphanumeric characters).
    pub nonce: String,
    /// When it was issued, unix seconds.
    pub issued_at: u64,
    /// Valid from, unix seconds (`Not Before`).
    pub not_before: Option<u64>,
    /// Valid until, unix seconds (`Expiration Time`).
    pub expiration: u64,
    /// The on-chain session the capability extends, if any.
    pub on_chain: Option<OnChainGrant>,
    /// The application's own resources and abilities.
    pub off_chain: Recap,
    /// Resources listed before the ReCap URI (references, not capabilities).
    pub references: Vec<String>,
}

impl SessionCapability {
    /// An off-chain capability of `owner` for `session_key` on `chain_id`: `off_chain`'s
    /// resources for the backend at `domain`, from `issued_at` until `expiration` (unix seconds),
    /// with a fresh nonce and no statement of its own.
    pub fn new(
        domain: &str,
        owner: Address,
        session_key: Address,
        chain_id: u64,
        off_chain: Recap,
        issued_at: u64,
        expiration: u64,
    ) -> Self {
        Self {
            domain: domain.to_owned(),
            owner,
            session_key,
            chain_id,
            statement: None,
            nonce: siwe::generate_nonce(),
            issued_at,
            not_before: None,
            expiration,
            on_chain: None,
            off_chain,
            references: Vec::new(),
        }
    }

    /// A capability for `session_key` from the on-chain grant `record` of `domain`: the same
    /// owner, key, window and permissions, with `off_chain` resources beside them.
    pub fn from_record(
        backend: &str,
        domain: &GrantDomain,
        record: &GrantRecord,
        off_chain: Recap,
        issued_at: u64,
    ) -> Self {
        let mut capability = Self::new(
            backend,
            record.account,
            record.session_key,
            domain.chain_id,
            off_chain,
            issued_at,
            record.valid_until,
        );
        capability.not_before = (record.valid_after > 0).then_some(record.valid_after);
        capability.on_chain = Some(OnChainGrant {
            validator: domain.validator,
            salt: record.salt,
            permissions: record.permissions.clone(),
        });
        capability
    }

    /// The on-chain grant as leash stores it, and its session id; `None` without one.
    pub fn on_chain_record(&self) -> Option<(GrantRecord, B256)> {
        let on_chain = self.on_chain.as_ref()?;
        let record = GrantRecord {
            account: self.owner,
            session_key: self.session_key,
            valid_after: self.not_before.unwrap_or(0),
            valid_until: self.expiration,
            salt: on_chain.salt,
            permissions: on_chain.permissions.clone(),
            owner_signature: None,
        };
        let id = self.grant_domain()?.session_id(&record.grant());
        Some((record, id))
    }

    /// The EIP-712 domain of the on-chain grant.
    pub fn grant_domain(&self) -> Option<GrantDomain> {
        let on_chain = self.on_chain.as_ref()?;
        Some(GrantDomain {
            chain_id: self.chain_id,
            validator: on_chain.validator,
        })
    }

    /// Every capability: the on-chain session's and the application's, in one ReCap object.
    pub fn recap(&self) -> Recap {
        let mut recap = self.off_chain.clone();
        if let (Some(on_chain), Some((_, id))) = (&self.on_chain, self.on_chain_record()) {
            let resource = leash_resource(on_chain.validator, id, on_chain.salt);
            for (position, permission) in on_chain.permissions.iter().enumerate() {
                let mut nota_bene = match serde_json::to_value(permission) {
                    Ok(Value::Object(mut tagged)) => match tagged.remove("data") {
                        Some(Value::Object(data)) => data,
                        _ => Map::new(),
                    },
                    _ => Map::new(),
                };
                nota_bene.insert(POSITION.to_owned(), position.into());
                let ability = format!("{SESSION_NAMESPACE}/{}", permission.type_name());
                // Permission type names are valid ability parts, and the resource is built here.
                recap
                    .grant(&resource, &ability, nota_bene)
                    .expect("a leash resource and permission type are valid ReCap entries");
            }
        }
        recap
    }

    /// The SIWE message.
    pub fn to_message(&self) -> Result<Message, GrantError> {
        let recap = self.recap();
        let recap_statement = recap.statement();
        let statement = match &self.statement {
            Some(own) if !own.is_empty() => format!("{own} {recap_statement}"),
            _ => recap_statement,
        };
        let mut resources = self
            .references
            .iter()
            .map(|r| parse_uri("resource", r))
            .collect::<Result<Vec<_>, _>>()?;
        if !recap.is_empty() {
            resources.push(parse_uri("resource", &recap.encode())?);
        }
        Ok(Message {
            domain: self.domain.parse().map_err(|_| GrantError::Field {
                field: "domain",
                value: self.domain.clone(),
            })?,
            address: self.owner.into_array(),
            statement: Some(statement),
            uri: parse_uri("URI", &session_key_uri(self.chain_id, self.session_key))?,
            version: Version::V1,
            chain_id: self.chain_id,
            nonce: self.nonce.clone(),
            issued_at: timestamp(self.issued_at)?,
            expiration_time: Some(timestamp(self.expiration)?),
            not_before: self.not_before.map(timestamp).transpose()?,
            request_id: None,
            resources,
        })
    }

    /// The text the owner signs.
    pub fn to_text(&self) -> Result<String, GrantError> {
        Ok(self.to_message()?.to_string())
    }

    /// Reads a SIWE message as a session capability. Only the canonical text is accepted (the
    /// message prints back to the same bytes), its ReCap statement must be the one its
    /// capabilities give, and a `leash://` session must be the grant it encodes.
    pub fn parse(text: &str) -> Result<Self, GrantError> {
        let message: Message = text.parse()?;
        let stamps = [
            ("Issued At", Some(&message.issued_at)),
            ("Expiration Time", message.expiration_time.as_ref()),
            ("Not Before", message.not_before.as_ref()),
        ];
        for (field, stamp) in stamps {
            if let Some(stamp) = stamp.map(ToString::to_string)
                && !strict_rfc3339(&stamp)
            {
                return Err(GrantError::Field {
                    field,
                    value: stamp,
                });
            }
        }
        let printed = message.to_string();
        if printed != text {
            let at = printed
                .bytes()
                .zip(text.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(printed.len().min(text.len()));
            return Err(GrantError::NotCanonical { at });
        }
        Self::from_message(&message)
    }

    /// Reads a parsed SIWE message (see [`parse`](Self::parse)).
    pub fn from_message(message: &Message) -> Result<Self, GrantError> {
        let (last, references) = message
            .resources
            .split_last()
            .ok_or(GrantError::NoCapabilities)?;
        let recap = Recap::decode(last.as_str()).map_err(|error| match error {
            RecapError::NotRecap { .. } => GrantError::NoCapabilities,
            other => other.into(),
        })?;
        let expected = recap.statement();
        let full = message.statement.clone().unwrap_or_default();
        let own = full
            .strip_suffix(&expected)
            .ok_or_else(|| GrantError::StatementMismatch {
                expected: expected.clone(),
            })?;
        let statement = match own.strip_suffix(' ') {
            Some(own) => Some(own.to_owned()),
            None if own.is_empty() => None,
            None => return Err(GrantError::StatementMismatch { expected }),
        };
        let session_key = parse_session_key_uri(message.uri.as_str(), message.chain_id)?;
        let expiration = message
            .expiration_time
            .as_ref()
            .ok_or(GrantError::NoExpiration)?;
        let (on_chain, off_chain) = split_on_chain(recap)?;
        let capability = Self {
            domain: message.domain.to_string(),
            owner: Address::from(message.address),
            session_key,
            chain_id: message.chain_id,
            statement,
            nonce: message.nonce.clone(),
            issued_at: unix_floor(&message.issued_at),
            // A fraction of a second rounds towards the narrower window.
            not_before: message.not_before.as_ref().map(unix_ceil),
            expiration: unix_floor(expiration),
            on_chain: on_chain.as_ref().map(|(grant, _)| grant.clone()),
            off_chain,
            references: references.iter().map(|r| r.as_str().to_owned()).collect(),
        };
        if let (Some((_, stated)), Some((_, computed))) = (on_chain, capability.on_chain_record())
            && stated != computed
        {
            return Err(GrantError::SessionIdMismatch { stated, computed });
        }
        Ok(capability)
    }
}

/// `did:pkh:eip155:<chain id>:<address>`: the session key as the message's URI.
pub fn session_key_uri(chain_id: u64, key: Address) -> String {
    format!("did:pkh:eip155:{chain_id}:{}", key.to_checksum(None))
}

fn parse_session_key_uri(uri: &str, chain_id: u64) -> Result<Address, GrantError> {
    let not_a_key = || GrantError::NotASessionKey {
        uri: uri.to_owned(),
    };
    let rest = uri.strip_prefix("did:pkh:eip155:").ok_or_else(not_a_key)?;
    let (chain, address) = rest.split_once(':').ok_or_else(not_a_key)?;
    let uri_chain: u64 = chain.parse().map_err(|_| not_a_key())?;
    let key: Address = address.parse().map_err(|_| not_a_key())?;
    if uri_chain != chain_id {
        return Err(GrantError::UriChain {
            uri_chain,
            chain_id,
        });
    }
    Ok(key)
}

/// `leash://<validator>/<session id>?salt=<salt>`.
pub fn leash_resource(validator: Address, session_id: B256, salt: U256) -> String {
    format!(
        "{LEASH_SCHEME}://{}/{session_id}?salt={salt:#x}",
        validator.to_checksum(None)
    )
}

fn parse_leash_resource(resource: &str) -> Result<(Address, B256, U256), GrantError> {
    let invalid = || GrantError::LeashResource {
        resource: resource.to_owned(),
    };
    let rest = resource
        .strip_prefix(LEASH_SCHEME)
        .and_then(|r| r.strip_prefix("://"))
        .ok_or_else(invalid)?;
    let (validator, rest) = rest.split_once('/').ok_or_else(invalid)?;
    let (id, salt) = rest.split_once("?salt=").ok_or_else(invalid)?;
    let salt = salt
        .strip_prefix("0x")
        .and_then(|hex| U256::from_str_radix(hex, 16).ok())
        .ok_or_else(invalid)?;
    Ok((
        validator.parse().map_err(|_| invalid())?,
        id.parse().map_err(|_| invalid())?,
        salt,
    ))
}

type StatedOnChain = Option<(OnChainGrant, B256)>;

/// Takes the `leash://` session out of `recap`, with the session id its URI states.
fn split_on_chain(mut recap: Recap) -> Result<(StatedOnChain, Recap), GrantError> {
    let leash: Vec<String> = recap
        .attenuations()
        .keys()
        .filter(|r| r.starts_with(&format!("{LEASH_SCHEME}:")))
        .cloned()
        .collect();
    let [resource] = leash.as_slice() else {
        return match leash.len() {
            0 => Ok((None, recap)),
            _ => Err(GrantError::SeveralSessions),
        };
    };
    let (validator, id, salt) = parse_leash_resource(resource)?;
    let mut rest = Recap::new();
    let mut permissions: Vec<(u64, Permission)> = Vec::new();
    for (res, abilities) in recap.attenuations() {
        for (ability, nota_bene) in abilities {
            if res != resource {
                for nb in nota_bene {
                    rest.grant(res, ability, nb.clone())?;
                }
                continue;
            }
            permissions.extend(decode_permissions(ability, nota_bene)?);
        }
    }
    permissions.sort_by_key(|(position, _)| *position);
    let positions_ok = permissions
        .iter()
        .enumerate()
        .all(|(i, (position, _))| *position == i as u64);
    if !positions_ok {
        return Err(GrantError::Permission {
            ability: format!("{SESSION_NAMESPACE}/*"),
            reason: "positions are not 0, 1, 2, … without gaps".into(),
        });
    }
    recap = rest;
    let grant = OnChainGrant {
        validator,
        salt,
        permissions: permissions.into_iter().map(|(_, p)| p).collect(),
    };
    Ok((Some((grant, id)), recap))
}

fn decode_permissions(
    ability: &str,
    nota_bene: &NotaBene,
) -> Result<Vec<(u64, Permission)>, GrantError> {
    let error = |reason: String| GrantError::Permission {
        ability: ability.to_owned(),
        reason,
    };
    let type_name = ability
        .strip_prefix(SESSION_NAMESPACE)
        .and_then(|a| a.strip_prefix('/'))
        .ok_or_else(|| error(format!("not in the `{SESSION_NAMESPACE}` namespace")))?;
    nota_bene
        .iter()
        .map(|nb| {
            let mut data = nb.clone();
            let position = data
                .remove(POSITION)
                .and_then(|p| p.as_u64())
                .ok_or_else(|| error(format!("no `{POSITION}`")))?;
            let mut tagged = Map::new();
            tagged.insert("type".into(), type_name.into());
            if !data.is_empty() {
                tagged.insert("data".into(), Value::Object(data));
            }
            let permission =
                serde_json::from_value(Value::Object(tagged)).map_err(|e| error(e.to_string()))?;
            Ok((position, permission))
        })
        .collect()
}

fn parse_uri(field: &'static str, value: &str) -> Result<iri_string::types::UriString, GrantError> {
    value.parse().map_err(|_| GrantError::Field {
        field,
        value: value.to_owned(),
    })
}

/// RFC 3339 as ERC-4361 writes it: `T` between date and time, `Z` or `±hh:mm` at the end. The
/// `time` crate also reads other separators, which would make one instant print two ways.
fn strict_rfc3339(stamp: &str) -> bool {
    let bytes = stamp.as_bytes();
    let offset = bytes.len() >= 6 && {
        let tail = &bytes[bytes.len() - 6..];
        (tail[0] == b'+' || tail[0] == b'-') && tail[3] == b':'
    };
    bytes.get(10) == Some(&b'T') && (stamp.ends_with('Z') || offset)
}

fn timestamp(seconds: u64) -> Result<TimeStamp, GrantError> {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(TimeStamp::from)
        .map_err(|_| GrantError::Time { seconds })
}

fn unix_floor(stamp: &TimeStamp) -> u64 {
    u64::try_from(stamp.as_ref().unix_timestamp()).unwrap_or(0)
}

fn unix_ceil(stamp: &TimeStamp) -> u64 {
    let time = stamp.as_ref();
    let up = u64::from(time.nanosecond() > 0);
    u64::try_from(time.unix_timestamp()).unwrap_or(0) + up
}
