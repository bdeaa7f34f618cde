//! ERC-7715 in MetaMask's shapes (`@metamask/7715-permission-types`): the requests of
//! `wallet_requestExecutionPermissions`, what leash grants for them, and what it refuses.

use crate::{error::RpcError, params::parse, state::WireSessionId};
use alloy_primitives::{Address, Bytes, U64, U256};
use leash_core::{permission::Permission, recurring::RecurringPeriod, session_state::GrantRecord};
use leash_sdk::service::GrantTerms;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The permission types leash grants: one-off allowances and periodic ones, each a leash limit
/// (periodic: with a recurring period).
pub(crate) const SUPPORTED_PERMISSION_TYPES: [&str; 4] = [
    "native-token-allowance",
    "erc20-token-allowance",
    "native-token-periodic",
    "erc20-token-periodic",
];

/// The rule types leash enforces. A `redeemer` rule naming exactly the session key is accepted
/// too (only the session key redeems a leash session anyway), but is not listed: no other
/// redeemer can be honoured.
pub(crate) const SUPPORTED_RULE_TYPES: [&str; 1] = ["expiry"];

/// leash's extension fields of a request's second step: the session the first step answered,
/// and the owner's signature of its typed data. Left out when the request is echoed.
const SESSION_ID_FIELD: &str = "sessionId";
const SIGNATURE_FIELD: &str = "signature";

/// One request, as MetaMask's middleware validates it, plus leash's second-step fields.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    chain_id: U64,
    #[serde(default)]
    from: Option<Address>,
    to: Address,
    permission: WirePermission,
    #[serde(default)]
    rules: Option<Vec<WireRule>>,
    #[serde(default)]
    session_id: Option<WireSessionId>,
    #[serde(default)]
    signature: Option<Bytes>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePermission {
    #[serde(rename = "type")]
    kind: String,
    /// Required by the middleware; leash never adjusts a request, so it only echoes it.
    #[serde(rename = "isAdjustmentAllowed")]
    _is_adjustment_allowed: bool,
    data: Value,
}

#[derive(Debug, Deserialize)]
struct WireRule {
    #[serde(rename = "type")]
    kind: String,
    data: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NativeTokenAllowance {
    allowance_amount: U256,
    #[serde(default)]
    start_time: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Erc20TokenAllowance {
    token_address: Address,
    allowance_amount: U256,
    #[serde(default)]
    start_time: Option<u64>,
}

/// `native-token-periodic` and `erc20-token-periodic` (then with `tokenAddress`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Periodic {
    #[serde(default)]
    token_address: Option<Address>,
    period_amount: U256,
    period_duration: u64,
    #[serde(default)]
    start_time: Option<u64>,
}

#[derive(Deserialize)]
struct ExpiryRule {
    timestamp: u64,
}

#[derive(Deserialize)]
struct AddressesRule {
    addresses: Vec<Address>,
}

/// A request mapped onto a leash grant.
#[derive(Debug)]
pub(crate) struct ExecutionPermissionRequest {
    /// The request as sent, without leash's extension fields: what the answer echoes.
    pub(crate) echo: Map<String, Value>,
    pub(crate) chain_id: U64,
    /// The granting account (`from`).
    pub(crate) account: Address,
    /// The session key (`to`).
    pub(crate) session_key: Address,
    /// The one leash permission the request's permission is.
    pub(crate) permission: Permission,
    /// `startTime`, or 0.
    pub(crate) valid_after: u64,
    /// The `expiry` rule's timestamp.
    pub(crate) valid_until: u64,
    /// Which step this request is.
    pub(crate) step: Step,
}

/// The two steps of a grant: the server has no owner key, so the wallet signs in between.
#[derive(Debug)]
pub(crate) enum Step {
    /// Issue a session for the request and hand out its typed data to sign.
    Issue,
    /// Grant the session issued for this request: the owner signed its typed data.
    Grant {
        session_id: WireSessionId,
        signature: Bytes,
    },
}

impl ExecutionPermissionRequest {
    /// `value`, the request at `params[index]`, mapped onto a leash grant; a type or rule leash
    /// does not enforce is refused ([`RpcError::UnsupportedPermission`]), never dropped.
    pub(crate) fn parse(value: Value, index: usize) -> Result<Self, RpcError> {
        let field = format!("params[{index}]");
        let mut echo = match &value {
            Value::Object(fields) => fields.clone(),
            _ => return Err(RpcError::invalid(field, "expected an object")),
        };
        let request: WireRequest = parse(value, &field)?;
        echo.remove(SESSION_ID_FIELD);
        echo.remove(SIGNATURE_FIELD);
        let account = request.from.ok_or_else(|| {
            RpcError::invalid(
                format!("{field}.from"),
                "required: the server grants for the account named, it has none of its own",
            )
        })?;
        let (permission, start_time) = permission(request.permission, &field)?;
        let valid_until = expiry(request.rules.unwrap_or_default(), request.to, &field)?;
        let step = match (request.session_id, request.signature) {
            (None, None) => Step::Issue,
            (Some(session_id), Some(signature)) => Step::Grant {
                session_id,
                signature,
            },
            _ => {
                return Err(RpcError::invalid(
                    field,
                    "give sessionId and signature together (the second step), or neither (the \
                     first)",
                ));
            }
        };
        Ok(Self {
            echo,
            chain_id: request.chain_id,
            account,
            session_key: request.to,
            permission,
            valid_after: start_time.unwrap_or_default(),
            valid_until,
            step,
        })
    }

    /// What the grant gives, to whom, for how long.
    pub(crate) fn terms(&self) -> GrantTerms {
        GrantTerms {
            account: self.account,
            session_key: self.session_key,
            permissions: vec![self.permission.clone()],
            valid_after: self.valid_after,
            valid_until: self.valid_until,
            label: String::new(),
        }
    }

    /// Whether `grant` is what the first step issued for this request: the second step must not
    /// answer a request other than the one the owner signed for.
    pub(crate) fn was_issued_as(&self, grant: &GrantRecord) -> bool {
        grant.account == self.account
            && grant.session_key == self.session_key
            && grant.valid_after == self.valid_after
            && grant.valid_until == self.valid_until
            && grant.permissions.first() == Some(&self.permission)
    }

    /// The answer: the request echoed with `fields` added.
    pub(crate) fn answer(&self, fields: Value) -> Value {
        let mut answer = self.echo.clone();
        if let Value::Object(fields) = fields {
            answer.extend(fields);
        }
        Value::Object(answer)
    }
}

/// The leash permission `permission` maps to, and its `startTime`.
fn permission(
    permission: WirePermission,
    field: &str,
) -> Result<(Permission, Option<u64>), RpcError> {
    let data_field = format!("{field}.permission.data");
    match permission.kind.as_str() {
        "native-token-allowance" => {
            let data: NativeTokenAllowance = parse(permission.data, &data_field)?;
            let allowance = data.allowance_amount;
            Ok((
                Permission::NativeTokenTransfer {
                    allowance,
                    period: None,
                },
                data.start_time,
            ))
        }
        "erc20-token-allowance" => {
            let data: Erc20TokenAllowance = parse(permission.data, &data_field)?;
            let permission = Permission::Erc20TokenTransfer {
                address: data.token_address,
                allowance: data.allowance_amount,
                period: None,
            };
            Ok((permission, data.start_time))
        }
        kind @ ("native-token-periodic" | "erc20-token-periodic") => {
            let data: Periodic = parse(permission.data, &data_field)?;
            periodic(kind, data, &data_field)
        }
        kind => Err(RpcError::UnsupportedPermission {
            field: format!("{field}.permission.type"),
            kind: kind.to_owned(),
            reason: unsupported_permission_reason(kind),
        }),
    }
}

/// A periodic permission: `periodAmount` every `periodDuration` seconds, counted from `startTime`
/// (from the epoch without one, so that a day resets at 00:00 UTC), which also opens the grant.
fn periodic(
    kind: &str,
    data: Periodic,
    field: &str,
) -> Result<(Permission, Option<u64>), RpcError> {
    let period =
        RecurringPeriod::every(data.period_duration).starting(data.start_time.unwrap_or(0));
    period
        .check()
        .map_err(|error| RpcError::invalid(format!("{field}.periodDuration"), error.to_string()))?;
    let period = Some(period);
    let permission = match (kind, data.token_address) {
        ("erc20-token-periodic", Some(address)) => Permission::Erc20TokenTransfer {
            address,
            allowance: data.period_amount,
            period,
        },
        ("erc20-token-periodic", None) => {
            return Err(RpcError::invalid(
                format!("{field}.tokenAddress"),
                "an erc20-token-periodic permission names its token",
            ));
        }
        (_, None) => Permission::NativeTokenTransfer {
            allowance: data.period_amount,
            period,
        },
        (_, Some(_)) => {
            return Err(RpcError::invalid(
                format!("{field}.tokenAddress"),
                "a native-token-periodic permission names no token",
            ));
        }
    };
    Ok((permission, data.start_time))
}

fn unsupported_permission_reason(kind: &str) -> &'static str {
    match kind {
        "native-token-stream" | "erc20-token-stream" => {
            "streams (an amount accruing per second) are not enforced by leash yet; ask for a \
             one-off *-allowance with an expiry rule"
        }
        "erc20-token-revocation" | "token-approval-revocation" => {
            "a session limited to revoking approvals is not enforced by leash yet"
        }
        _ => {
            "not an ERC-7715 permission type leash knows; it grants native-token-allowance, \
             erc20-token-allowance, native-token-periodic and erc20-token-periodic"
        }
    }
}

/// The `expiry` rule's timestamp, after checking every other rule: a `redeemer` must name
/// exactly `session_key`; anything else is refused.
fn expiry(rules: Vec<WireRule>, session_key: Address, field: &str) -> Result<u64, RpcError> {
    let mut expiry = None;
    for (index, rule) in rules.into_iter().enumerate() {
        let rule_field = format!("{field}.rules[{index}]");
        let data_field = format!("{rule_field}.data");
        match rule.kind.as_str() {
            "expiry" if expiry.is_some() => {
                return Err(RpcError::invalid(rule_field, "a second expiry rule"));
            }
            "expiry" => {
                let data: ExpiryRule = parse(rule.data, &data_field)?;
                expiry = Some(data.timestamp);
            }
            "redeemer" => {
                let data: AddressesRule = parse(rule.data, &data_field)?;
                if data.addresses != [session_key] {
                    return Err(unsupported_rule(
                        rule_field,
                        "redeemer",
                        "only the session key (to) redeems a leash session: the rule may list \
                         exactly it, no other address",
                    ));
                }
            }
            "payee" => {
                return Err(unsupported_rule(
                    rule_field,
                    "payee",
                    "leash does not restrict where a session's ERC-20 and native spends go yet",
                ));
            }
            kind => {
                return Err(unsupported_rule(
                    rule_field,
                    kind,
                    "not an ERC-7715 rule type leash knows; it enforces expiry",
                ));
            }
        }
    }
    expiry.ok_or_else(|| {
        RpcError::invalid(
            format!("{field}.rules"),
            "an expiry rule is required: a leash grant always ends",
        )
    })
}

fn unsupported_rule(rule_field: String, kind: &str, reason: &'static str) -> RpcError {
    RpcError::UnsupportedPermission {
        field: format!("{rule_field}.type"),
        kind: kind.to_owned(),
        reason,
    }
}

/// `wallet_getSupportedExecutionPermissions`' answer for the chain `chain_id`.
pub(crate) fn supported(chain_id: u64) -> Value {
    let support = json!({
        "chainIds": [U64::from(chain_id)],
        "ruleTypes": SUPPORTED_RULE_TYPES,
    });
    SUPPORTED_PERMISSION_TYPES
        .iter()
        .map(|kind| ((*kind).to_owned(), support.clone()))
        .collect::<Map<_, _>>()
        .into()
}
