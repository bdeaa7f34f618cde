// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Session grants of the leash `SessionKeyValidator`: the one source of truth for Solidity and Rust.
// This file imports nothing and holds only structs, enums and constants, because `leash-bindings`
// runs alloy's `sol!` over it directly. Encodings, signature layouts and the session id formula are
// specified in docs/permissions.md.

/// @notice The eight permission types of the hosted Wallet API, in this order, then leash's own. The
///         EIP-712 and ABI encodings carry the type as its `uint8` index.
enum PermissionType {
    Root, // "root": any call except the forbidden ones; must be the only permission.
    NativeTokenTransfer, // "native-token-transfer": `amount` = cumulative native value allowance.
    Erc20TokenTransfer, // "erc20-token-transfer": `target` = token, `amount` = cumulative allowance.
    GasLimit, // "gas-limit": `amount` = cumulative max cost in wei of self-paid UserOperations.
    ContractAccess, // "contract-access": `target` = contract, any function.
    AccountFunctions, // "account-functions": `functions` = selectors callable on the account itself.
    FunctionsOnAllContracts, // "functions-on-all-contracts": `functions` callable on any contract.
    FunctionsOnContract, // "functions-on-contract": `functions` callable on `target`.
    Paymaster, // "paymaster" (leash): `target` = a paymaster the session's UserOperations may name.
    TypedDataSigning, // "typed-data-signing" (leash): `target` = an app's EIP-712 `verifyingContract`; the
    // session may sign its typed data as the account, during the session's own balance-checked operations.
    PersonalSign // "personal-sign" (leash): the session may sign personal messages as the account.
}

/// @notice Lifecycle of a grant on one account. An `Enabled` session enabled before the account's
///         latest epoch bump is reported as `Revoked`.
enum SessionStatus {
    Unused,
    Enabled,
    Revoked
}

/// @notice One permission. A field a type does not use must be zero (or empty). `rules` carries
///         the rule data of programmable permissions (argument rules, periods, usage limits,
///         policy contracts; encoding in docs/permissions.md), so they arrive without another type
///         hash change; this validator accepts only empty `rules` (`UnsupportedRules` otherwise).
struct Permission {
    PermissionType permissionType;
    address target;
    uint256 amount;
    bytes4[] functions;
    bytes rules;
}

/// @notice What the owner signs (EIP-712, domain: name "LeashSessionKeyValidator", version "2",
///         chain id, verifyingContract = the validator). Version "1" was the shape without
///         `Permission.rules`.
/// One rule of a permission's `rules` (after the version byte): `kind` says how to read `data`.
struct Rule {
    uint8 kind;
    bytes data;
}

struct SessionGrant {
    address account;
    address sessionKey;
    uint48 validAfter;
    uint48 validUntil;
    uint256 salt;
    Permission[] permissions;
}

/// @dev EIP-712 type hashes.
bytes32 constant PERMISSION_TYPEHASH =
    keccak256("Permission(uint8 permissionType,address target,uint256 amount,bytes4[] functions,bytes rules)");
bytes32 constant SESSION_GRANT_TYPEHASH = keccak256(
    "SessionGrant(address account,address sessionKey,uint48 validAfter,uint48 validUntil,uint256 salt,Permission[] permissions)Permission(uint8 permissionType,address target,uint256 amount,bytes4[] functions,bytes rules)"
);

/// @dev The EIP-712 domain version of the grant shape above.
string constant GRANT_DOMAIN_VERSION = "2";

/// @dev First byte of a UserOperation signature for the validator.
uint8 constant SIG_MODE_USE = 0x00; // 0x00 ‖ sessionId ‖ the session key's signature of the userOpHash.
uint8 constant SIG_MODE_USE_ROOT = 0x01; // Same layout, for a session holding `Root`.
uint8 constant SIG_MODE_ENABLE = 0x02; // 0x02 ‖ abi.encode(SessionGrant, ownerSignature, sessionKeySignature).
// Set in the use or enable mode byte: the signature ends with `attachments ‖ uint16 attachmentsLength`,
// the compact rules of the ruled calls (docs/permissions.md, "How validation gets the rules").
uint8 constant SIG_FLAG_RULES = 0x80;
// The mode byte is `SIG_FLAG_RULES? | signerKind << SIG_SIGNER_SHIFT | form`, the form one of the three
// modes above, the signer kind saying how the key signature is checked (docs/architecture.md, "Session
// signers that are not EOAs"). Kinds 1–5 are checked by `SessionSigners`.
uint8 constant SIG_FORM_MASK = 0x03;
uint8 constant SIG_SIGNER_SHIFT = 2;
uint8 constant SIGNER_SECP256K1 = 0; // `r ‖ s ‖ v`; the signer id is the recovered address.
uint8 constant SIGNER_CONTRACT = 1; // `signer ‖ signature`, ERC-1271; the id is the signer's address.
uint8 constant SIGNER_P256 = 2; // `x ‖ y ‖ r ‖ s`, by the precompile; the id is keccak256(x ‖ y)[12:].
uint8 constant SIGNER_P256_FALLBACK = 3; // The same, by `P256Verifier`.
uint8 constant SIGNER_WEBAUTHN = 4; // A WebAuthn assertion; the id is keccak256(x ‖ y ‖ rpIdHash)[12:].
uint8 constant SIGNER_WEBAUTHN_FALLBACK = 5; // The same, by `P256Verifier`.

uint8 constant RULES_VERSION = 0x01; // `rules = RULES_VERSION ‖ abi.encode(Rule[])`.
uint8 constant RULE_ARGUMENT = 1; // abi.encode(uint16 index, uint8 op, bytes32[] values)
uint8 constant RULE_RECURRING = 2; // abi.encode(uint48 period, uint48 start); period 0 = calendar months (UTC)
uint8 constant RULE_USAGE = 3; // abi.encode(uint32 count): at most `count` calls under the permission
uint8 constant RULE_POLICY = 4; // abi.encode(address policy, bytes config): the policy's IPolicy.checkCall decides
uint256 constant MAX_POLICY_CONFIG_BYTES = 1024;
uint8 constant RULE_DYNAMIC_ARGUMENT = 5; // abi.encode(uint16 index, uint32 offset, uint8 op, bytes32[] values)
uint8 constant RULE_CALL_VALUE = 6; // abi.encode(uint256 maxValue)
uint8 constant RULE_RATE = 7; // abi.encode(uint32 count, uint48 period, uint48 start): at most `count` calls per period
uint8 constant RULE_OP_EQ = 0;
uint8 constant RULE_OP_NE = 1;
uint8 constant RULE_OP_GT = 2;
uint8 constant RULE_OP_GTE = 3;
uint8 constant RULE_OP_LT = 4;
uint8 constant RULE_OP_LTE = 5;
uint8 constant RULE_OP_ONE_OF = 6;
uint8 constant RULE_OP_IN_RANGE = 7;
uint256 constant MAX_ONE_OF_VALUES = 32;

/// @dev Allowances and limits are stored in 128 bits; larger amounts are rejected at enable time.
uint256 constant MAX_ALLOWANCE = type(uint128).max;

/// @dev The ERC-20 calls that count against `Erc20TokenTransfer` and that no other permission
///      allows: they move or approve value.
bytes4 constant ERC20_TRANSFER = 0xa9059cbb; // transfer(address,uint256)
bytes4 constant ERC20_TRANSFER_FROM = 0x23b872dd; // transferFrom(address,address,uint256)
bytes4 constant ERC20_APPROVE = 0x095ea7b3; // approve(address,uint256)
bytes4 constant ERC20_INCREASE_ALLOWANCE = 0x39509351; // increaseAllowance(address,uint256)

/// @dev Uniswap's Permit2 at its canonical address, and its `approve`, which sets Permit2's own
///      allowance of a token for a spender: the validator meters it like the token's `approve`.
address constant PERMIT2 = 0x000000000022D473030F116dDEE9F6B43aC78BA3;
bytes4 constant PERMIT2_APPROVE = 0x87517c45; // approve(address,address,uint160,uint48)

/// @dev Account selectors no session may call, not even through `AccountFunctions`.
bytes4 constant ACCOUNT_EXECUTE = 0xe9ae5c53; // execute(bytes32,bytes)
bytes4 constant ACCOUNT_EXECUTE_FROM_EXECUTOR = 0xd691c964; // executeFromExecutor(bytes32,bytes)
bytes4 constant ACCOUNT_INSTALL_MODULE = 0x9517e29f; // installModule(uint256,address,bytes)
bytes4 constant ACCOUNT_UNINSTALL_MODULE = 0xa71763a8; // uninstallModule(uint256,address,bytes)
bytes4 constant ACCOUNT_VALIDATE_USER_OP = 0x19822f7c; // validateUserOp(PackedUserOperation,bytes32,uint256)
bytes4 constant ACCOUNT_EXECUTE_USER_OP = 0x8dd7712f; // executeUserOp(PackedUserOperation,bytes32)
