//! Golden vectors shared with Solidity (`tests/fixtures/README.md`): the SDK must compute every
//! byte the contracts compute — session ids, owner signatures, UserOperation hashes and the
//! validator's signature encodings.
//!
//! - `solidity_vectors.json` is written by `tests/sol/fixtures/GoldenVectors.t.sol`; here every
//!   vector is recomputed and must match byte for byte.
//! - `rust_vectors.json` is written here (`LEASH_WRITE_FIXTURES=1 cargo test -p leash-core --test
//!   golden_vectors`); by default this test fails when the committed file differs from what the SDK
//!   computes now, and the forge test checks the file against the contracts.
//! - `rule_vectors.json` is written here the same way: ruled permissions with their `rules` bytes,
//!   compact form, and the binding and ruled tag of each combination of set rule values, for the
//!   validator's enable to reproduce.

use alloy_primitives::{Address, Bytes, U256, address, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use leash_bindings::{
    Deployment, IERC20, PackedUserOperation, PermissionType, SessionGrant, Target,
};
use leash_core::{
    calls::Call,
    grant::{GrantDomain, SessionGrantBuilder},
    permission::{MAX_ALLOWANCE, Permission},
    recurring::{DAY, RecurringPeriod},
    rules::{Rule, RuleOp, bindings, combinations, compact_rules, ruled_tag, scope_tag},
    session_signature::{SessionAuth, session_nonce_key},
    user_operation::{GasSettings, UserOperationBuilder, user_operation_hash},
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

const CHAIN_ID: u64 = 31337;
const TOKEN: Address = address!("0x00000000000000000000000000000000000000dd");
const OTHER_TOKEN: Address = address!("0x00000000000000000000000000000000000000ee");
const CONTRACT: Address = address!("0x00000000000000000000000000000000000000cc");

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fixture {
    chain_id: u64,
    validator: String,
    entry_point: String,
    vectors: Vec<Vector>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vector {
    seed: u64,
    owner_key: String,
    session_key: String,
    grant: String,
    session_id: String,
    owner_signature: String,
    user_op: String,
    user_op_hash: String,
    session_key_signature: String,
    use_signature: String,
    lazy_signature: String,
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

fn hex(bytes: impl AsRef<[u8]>) -> String {
    format!("0x{}", alloy_primitives::hex::encode(bytes))
}

fn unhex(text: &str) -> Vec<u8> {
    alloy_primitives::hex::decode(text).unwrap_or_else(|e| panic!("bad hex {text:?}: {e}"))
}

fn domain() -> GrantDomain {
    GrantDomain {
        chain_id: CHAIN_ID,
        validator: Deployment::session_key_validator().address(),
    }
}

/// Every derived field of a vector, computed by the SDK from its inputs.
fn vector(
    seed: u64,
    owner: &PrivateKeySigner,
    key: &PrivateKeySigner,
    grant: &SessionGrant,
    op: &PackedUserOperation,
) -> Vector {
    let domain = domain();
    let session_id = domain.session_id(grant);
    let owner_signature = domain.sign(owner, grant).expect("owner signs");
    let user_op_hash =
        user_operation_hash(op, Deployment::entry_point().address(), CHAIN_ID, None).expect("hash");
    let key_signature: Bytes = key
        .sign_hash_sync(&user_op_hash)
        .expect("key signs")
        .as_bytes()
        .into();
    let root = grant
        .permissions
        .iter()
        .any(|p| p.permissionType == PermissionType::Root);
    let use_auth = SessionAuth::Enabled { session_id, root };
    let lazy_auth = SessionAuth::Lazy {
        grant,
        owner_signature: &owner_signature,
    };
    Vector {
        seed,
        owner_key: hex(owner.to_bytes()),
        session_key: hex(key.to_bytes()),
        grant: hex(grant.abi_encode()),
        session_id: hex(session_id),
        owner_signature: hex(&owner_signature),
        user_op: hex(op.abi_encode()),
        user_op_hash: hex(user_op_hash),
        session_key_signature: hex(&key_signature),
        use_signature: hex(use_auth.encode(&key_signature)),
        lazy_signature: hex(lazy_auth.encode(&key_signature)),
    }
}

#[test]
fn solidity_vectors_are_reproduced_byte_for_byte() {
    let text = std::fs::read_to_string(fixture_path("solidity_vectors.json"))
        .expect("solidity_vectors.json");
    let fixture: Fixture = serde_json::from_str(&text).expect("schema");
    assert_eq!(fixture.chain_id, CHAIN_ID);
    assert_eq!(
        fixture.validator,
        hex(domain().validator),
        "the vectors were made with another validator build"
    );
    assert_eq!(
        fixture.entry_point,
        hex(Deployment::entry_point().address())
    );
    assert!(fixture.vectors.len() >= 12);
    for expected in &fixture.vectors {
        let owner = PrivateKeySigner::from_slice(&unhex(&expected.owner_key)).expect("owner key");
        let key = PrivateKeySigner::from_slice(&unhex(&expected.session_key)).expect("session key");
        let grant = SessionGrant::abi_decode(&unhex(&expected.grant)).expect("grant");
        let op = PackedUserOperation::abi_decode(&unhex(&expected.user_op)).expect("userOp");
        assert_eq!(
            &vector(expected.seed, &owner, &key, &grant, &op),
            expected,
            "seed {}",
            expected.seed
        );
        for permission in &grant.permissions {
            let api = Permission::from_sol(permission).expect("known type");
            assert_eq!(
                &api.to_sol(),
                permission,
                "seed {}: Wallet API form round-trips",
                expected.seed
            );
        }
    }
}

/// One Rust-built scenario per seed: Wallet API permissions (through their JSON form) and calls
/// the grant allows.
fn scenario(seed: u64) -> (Vec<Permission>, Vec<Call>) {
    let ping = Target::pingCall::SELECTOR.into();
    let transfer = |token| Call {
        to: token,
        value: U256::ZERO,
        data: IERC20::transferCall {
            to: CONTRACT,
            amount: U256::from(seed),
        }
        .abi_encode()
        .into(),
    };
    let ping_call = Call {
        to: CONTRACT,
        value: U256::ZERO,
        data: Target::pingCall {}.abi_encode().into(),
    };
    let value_call = Call::transfer(CONTRACT, U256::from(seed));
    match seed % 8 {
        0 => (vec![Permission::Root], vec![transfer(TOKEN), value_call]),
        1 => (
            vec![Permission::NativeTokenTransfer {
                allowance: U256::from(10).pow(U256::from(18)),
                period: None,
            }],
            vec![value_call],
        ),
        2 => (
            vec![Permission::Erc20TokenTransfer {
                address: TOKEN,
                allowance: MAX_ALLOWANCE,
                period: None,
            }],
            vec![transfer(TOKEN)],
        ),
        3 => (
            vec![
                Permission::GasLimit {
                    limit: U256::from(seed) << 60,
                },
                Permission::ContractAccess { address: CONTRACT },
            ],
            vec![ping_call],
        ),
        4 => (
            vec![Permission::FunctionsOnAllContracts {
                functions: vec![ping, [0xde, 0xad, 0xbe, 0xef].into()],
                rules: vec![],
            }],
            vec![ping_call],
        ),
        5 => (
            vec![Permission::FunctionsOnContract {
                address: CONTRACT,
                functions: vec![ping],
                rules: vec![],
            }],
            vec![ping_call.clone(), ping_call],
        ),
        6 => (
            vec![
                Permission::AccountFunctions {
                    functions: vec![[0x12, 0x34, 0x56, 0x78].into()],
                },
                Permission::ContractAccess { address: CONTRACT },
            ],
            vec![ping_call],
        ),
        _ => (
            vec![
                Permission::Erc20TokenTransfer {
                    address: TOKEN,
                    allowance: U256::from(2),
                    period: None,
                },
                Permission::Erc20TokenTransfer {
                    address: OTHER_TOKEN,
                    allowance: U256::from(seed),
                    period: None,
                },
                Permission::NativeTokenTransfer {
                    allowance: U256::from(seed),
                    period: None,
                },
            ],
            vec![transfer(OTHER_TOKEN), value_call],
        ),
    }
}

fn rust_vector(seed: u64) -> Vector {
    let key_from = |label: &str| {
        PrivateKeySigner::from_bytes(&keccak256(format!("leash.rust.vector.{label}.{seed}")))
            .expect("key")
    };
    let (owner, key) = (key_from("owner"), key_from("session"));
    let (permissions, calls) = scenario(seed);
    let permissions: Vec<Permission> = permissions
        .into_iter()
        .map(|p| {
            serde_json::from_value(serde_json::to_value(&p).expect("json"))
                .expect("Wallet API JSON round-trips")
        })
        .collect();
    let grant = SessionGrantBuilder::new(owner.address(), key.address(), domain().validator)
        .valid_after(seed * 1000)
        .valid_until(1_700_000_000 + seed * 86_400)
        .salt(U256::from_be_bytes(keccak256(seed.to_be_bytes()).0))
        .permissions(permissions)
        .build(1_000)
        .expect("valid grant");
    let session_id = domain().session_id(&grant);
    let gas = GasSettings {
        verification_gas_limit: 100_000 + u128::from(seed),
        ..GasSettings::default()
    };
    let op = UserOperationBuilder::new(owner.address())
        .nonce(session_nonce_key(domain().validator, session_id) << 64)
        .calls(&calls)
        .expect("calls")
        .gas(gas)
        .build()
        .expect("userOp");
    vector(seed, &owner, &key, &grant, &op)
}

#[test]
fn rust_vectors_are_committed_and_current() {
    let fixture = Fixture {
        chain_id: CHAIN_ID,
        validator: hex(domain().validator),
        entry_point: hex(Deployment::entry_point().address()),
        vectors: (1..=16).map(rust_vector).collect(),
    };
    write_or_check("rust_vectors.json", &fixture);
}

/// Writes `fixture` as `name` under `LEASH_WRITE_FIXTURES`; otherwise fails when the committed
/// file is not what the SDK computes now.
fn write_or_check(name: &str, fixture: &impl Serialize) {
    let mut text = serde_json::to_string_pretty(fixture).expect("json");
    text.push('\n');
    let path = fixture_path(name);
    if std::env::var_os("LEASH_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, text).expect("write the fixture");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale or missing: regenerate with LEASH_WRITE_FIXTURES=1 cargo test -p leash-core --test golden_vectors, then run the forge check",
        path.display()
    );
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleVector {
    name: String,
    /// The permission in its Wallet API JSON.
    permission_json: serde_json::Value,
    /// `abi.encode(Permission)`.
    permission: String,
    /// `Permission.rules`: `0x01 ‖ abi.encode(Rule[])`.
    rules: String,
    /// The permission's index in its grant, which a usage limit's compact form holds.
    permission_index: u32,
    /// The compact form of the rules (set rules without their values).
    compact: String,
    /// The selector and the scope's target (zero for all contracts) the tags are for.
    selector: String,
    target: String,
    /// `ScopeLib.tag(FunctionsOnContract, selector, target)`, as a 32-byte word.
    tag: String,
    /// One per combination of set rule values, in the validator's order (the last set fastest).
    scopes: Vec<RuledScope>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuledScope {
    /// The combination: one value of each set rule, in rule order.
    words: Vec<String>,
    /// `keccak256(w_1 ‖ … ‖ w_k ‖ compact)`.
    binding: String,
    /// `uint256(keccak256(abi.encode(tag, binding)))`, as a 32-byte word.
    ruled_tag: String,
}

fn rule_vector(name: &str, permission_index: u32, permission: Permission) -> RuleVector {
    let (target, functions, rules): (Address, &[alloy_primitives::Selector], &[Rule]) =
        match &permission {
            Permission::FunctionsOnContract {
                address,
                functions,
                rules,
            } => (*address, functions, rules),
            Permission::FunctionsOnAllContracts { functions, rules } => {
                (Address::ZERO, functions, rules)
            }
            _ => panic!("rules are on function permissions"),
        };
    let selector = functions[0];
    let sol = permission.to_sol();
    RuleVector {
        name: name.to_owned(),
        permission_json: serde_json::to_value(&permission).expect("json"),
        permission: hex(sol.abi_encode()),
        rules: hex(&sol.rules),
        permission_index,
        compact: hex(compact_rules(rules, permission_index)),
        selector: hex(selector),
        target: hex(target),
        tag: hex(scope_tag(selector, target).to_be_bytes::<32>()),
        scopes: combinations(rules)
            .iter()
            .zip(bindings(rules, permission_index))
            .map(|(words, binding)| RuledScope {
                words: words.iter().map(hex).collect(),
                binding: hex(binding),
                ruled_tag: hex(ruled_tag(selector, target, binding).to_be_bytes::<32>()),
            })
            .collect(),
    }
}

fn rule_vectors() -> Vec<RuleVector> {
    let word = |n: u64| U256::from(n).into();
    vec![
        rule_vector(
            "pay on one contract: recipient one-of (a set rule), amount in-range, value lte",
            0,
            Permission::FunctionsOnContract {
                address: CONTRACT,
                functions: vec![Target::payCall::SELECTOR.into()],
                rules: vec![
                    Rule::Argument {
                        index: 0,
                        op: RuleOp::OneOf,
                        values: vec![
                            address!("0x00000000000000000000000000000000000000be").into(),
                            address!("0x00000000000000000000000000000000000000bf").into(),
                        ],
                    },
                    Rule::Argument {
                        index: 1,
                        op: RuleOp::InRange,
                        values: vec![word(1), word(1000)],
                    },
                    Rule::CallValue {
                        max: U256::from(10).pow(U256::from(18)),
                    },
                ],
            },
        ),
        rule_vector(
            "route on all contracts: first path element one-of, path length lte, amount eq",
            0,
            Permission::FunctionsOnAllContracts {
                functions: vec![Target::routeCall::SELECTOR.into()],
                rules: vec![
                    Rule::DynamicArgument {
                        index: 1,
                        offset: 32,
                        op: RuleOp::OneOf,
                        values: vec![TOKEN.into(), OTHER_TOKEN.into()],
                    },
                    Rule::DynamicArgument {
                        index: 1,
                        offset: 0,
                        op: RuleOp::Lte,
                        values: vec![word(3)],
                    },
                    Rule::Argument {
                        index: 0,
                        op: RuleOp::Eq,
                        values: vec![word(500)],
                    },
                ],
            },
        ),
        rule_vector(
            "pay as permission 2 of its grant: at most 3 calls, and a recipient blocklist policy \
             reading argument 0",
            2,
            Permission::FunctionsOnContract {
                address: CONTRACT,
                functions: vec![Target::payCall::SELECTOR.into()],
                rules: vec![
                    Rule::UsageLimit { calls: 3 },
                    Rule::Policy {
                        address: address!("0x00000000000000000000000000000000000000b1"),
                        config: U256::ZERO.abi_encode().into(),
                    },
                ],
            },
        ),
        rule_vector(
            "ping as permission 1 of its grant: at most 3 calls a day (RuleBuilders._rate(3, 1 days, \
             0, 1))",
            1,
            Permission::FunctionsOnContract {
                address: CONTRACT,
                functions: vec![Target::pingCall::SELECTOR.into()],
                rules: vec![Rule::RateLimit {
                    calls: 3,
                    period: RecurringPeriod::every(DAY),
                }],
            },
        ),
    ]
}

#[test]
fn rule_vectors_are_committed_and_current() {
    let vectors = rule_vectors();
    for vector in &vectors {
        let read: Permission =
            serde_json::from_value(vector.permission_json.clone()).expect("JSON reads back");
        let sol = leash_bindings::Permission::abi_decode(&unhex(&vector.permission))
            .expect("Permission decodes");
        assert_eq!(Permission::from_sol(&sol), Some(read), "{}", vector.name);
    }
    write_or_check("rule_vectors.json", &vectors);
}
