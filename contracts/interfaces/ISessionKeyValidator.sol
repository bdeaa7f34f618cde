// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PermissionType, SessionGrant, SessionStatus} from "../types/SessionTypes.sol";

/// @notice Errors, events and functions of the leash `SessionKeyValidator`, beyond ERC-7579.
/// @dev Every scope error names the session and the rule it hit. They are raised for any live
///      session, whether or not the key's signature verifies, so that a bundler's estimate with a
///      placeholder signature reports them; an operation within scope whose signature does not
///      verify gets `SIG_VALIDATION_FAILED`, as does any signature of a session that is not live.
interface ISessionKeyValidator {
    // ------------------------------------------------------------ use: scope violations

    /// @notice The UserOperation's `callData` is not a call to the account's `execute`.
    error NotAnExecuteCall(bytes32 sessionId, bytes4 selector);

    /// @notice The `execute` mode is not a single or batch call with the default exec type.
    error UnsupportedExecutionMode(bytes32 sessionId, bytes32 mode);

    /// @notice No session may make this call: the validator, module management or `execute` on the
    ///         account, or (under root) any call to the account itself.
    error ForbiddenCall(bytes32 sessionId, address target, bytes4 selector);

    /// @notice No permission of the session allows calling `selector` on `target`.
    error CallNotAllowed(bytes32 sessionId, address target, bytes4 selector);

    /// @notice A value transfer without a `NativeTokenTransfer` permission.
    error NativeTransferNotAllowed(bytes32 sessionId, address target, uint256 value);

    /// @notice The native allowance left is smaller than the value this call sends.
    error NativeAllowanceExceeded(bytes32 sessionId, address target, uint256 requested, uint256 remaining);

    /// @notice An ERC-20 transfer/transferFrom/approve/increaseAllowance on a token the session has
    ///         no `Erc20TokenTransfer` permission for.
    error Erc20NotAllowed(bytes32 sessionId, address token, bytes4 selector);

    /// @notice The token allowance left is smaller than the amount this call moves or approves.
    error Erc20AllowanceExceeded(bytes32 sessionId, address token, uint256 requested, uint256 remaining);

    /// @notice An ERC-20 spend call too short to hold its amount argument.
    error MalformedErc20Call(bytes32 sessionId, address token, bytes4 selector);

    /// @notice The UserOperation's maximum cost exceeds what is left of the session's `GasLimit`.
    error GasLimitExceeded(bytes32 sessionId, uint256 requested, uint256 remaining);

    /// @notice The UserOperation names `paymaster` (the first 20 bytes of `paymasterAndData`; zero when
    ///         shorter), which the session's grant does not name. `selfPaidAllowed` tells whether the
    ///         session could pay for itself instead (it holds a `GasLimit`).
    error PaymasterNotAllowed(bytes32 sessionId, address paymaster, bool selfPaidAllowed);

    /// @notice The account would pay for the UserOperation (no paymaster) but the session holds no
    ///         `GasLimit`: a scoped session's own gas is always bounded. `maxCost` is what it asked for.
    error SelfPaidGasNotAllowed(bytes32 sessionId, uint256 maxCost);

    /// @notice The call to `target` (`selector`) could move an asset the session limits by a path the
    ///         selector meter does not see (an earlier approval, Permit2, a forwarder, a callback):
    ///         the operation must take the balance-checked form (`executeUserOp`, docs/permissions.md).
    error OutflowCheckRequired(bytes32 sessionId, address target, bytes4 selector);

    /// @notice A balance-checked operation must list every token the session limits, each once, in
    ///         ascending order: it lists `declared`, the session limits `limited`.
    error InvalidOutflowTokens(bytes32 sessionId, uint256 declared, uint256 limited);

    /// @notice Execution moved `outflow` of `asset` (zero: native) out of the account, more than the
    ///         `remaining` allowance: the operation's calls are undone.
    error OutflowExceeded(bytes32 sessionId, address asset, uint256 outflow, uint256 remaining);

    /// @notice The signature claims root, but the session does not hold `Root`.
    error NotRootSession(bytes32 sessionId);

    /// @notice Rule `ruleIndex` (NE, GT, GTE, LT, LTE, IN_RANGE or a value limit) of the permission the
    ///         call's rules named does not hold: `actual` is the argument word (or the call's value) it
    ///         read.
    error CallRuleFailed(bytes32 sessionId, address target, bytes4 selector, uint256 ruleIndex, uint256 actual);

    /// @notice The words the call's set rules (EQ and ONE_OF) read, in rule order, are no combination
    ///         of values a permission of the session allows for this function (or the rules the
    ///         operation attached are not granted).
    error ArgumentsNotAllowed(bytes32 sessionId, address target, bytes4 selector, uint256[] words);

    /// @notice The operation's outflow of `asset` (zero: native value) exceeds what its recurring
    ///         allowance has left in the current period, which ends at `resetsAt` (or, not started
    ///         yet, starts then).
    error RecurringAllowanceExceeded(
        bytes32 sessionId, address asset, uint256 requested, uint256 remaining, uint256 resetsAt
    );

    /// @notice Policy rule `ruleIndex` refused the call: `policy` reverted (with `reason`, its first
    ///         `POLICY_ANSWER_BYTES` bytes), ran out of its gas, or did not return
    ///         `IPolicy.checkCall.selector`.
    error PolicyRefused(
        bytes32 sessionId, address target, bytes4 selector, uint256 ruleIndex, address policy, bytes reason
    );

    /// @notice The permission the call's rules named has made its `limit` calls of the current period
    ///         (its rate limit), which ends at `resetsAt` (or, not started, starts then). Raised in the
    ///         execution phase.
    error RateLimitReached(bytes32 sessionId, address target, bytes4 selector, uint256 limit, uint256 resetsAt);

    /// @notice The permission the call's rules named has made its `limit` calls (its usage limit).
    error UsageLimitReached(bytes32 sessionId, address target, bytes4 selector, uint256 limit);

    /// @notice Rule `ruleIndex` reads a word that is not entirely inside the call's data
    ///         (`dataLength` bytes): short calldata, or a dynamic argument's offset out of range.
    error ArgumentOutOfRange(bytes32 sessionId, address target, bytes4 selector, uint256 ruleIndex, uint256 dataLength);

    /// @notice The signature's rule attachment for call `callIndex` was not used: no such call, out
    ///         of order, or a call no function permission governs (an ERC-20 spend).
    error UnusedRuleAttachment(bytes32 sessionId, uint256 callIndex);

    /// @notice The UserOperation's nonce lane (the low 32 bits of its nonce key) is not the session's
    ///         (the first four bytes of its id), which binds the key's signature to one session.
    error WrongNonceLane(bytes32 sessionId, uint256 lane);

    // ------------------------------------------------------------ enable and revoke

    /// @notice The grant names another account than the one enabling it.
    error GrantAccountMismatch(bytes32 sessionId, address grantAccount, address account);

    /// @notice The grant's session key is zero.
    error InvalidSessionKey(bytes32 sessionId);

    /// @notice `validUntil` is zero or not after `validAfter`.
    error InvalidValidity(bytes32 sessionId, uint48 validAfter, uint48 validUntil);

    /// @notice The grant has no permissions.
    error NoPermissions(bytes32 sessionId);

    /// @notice `Root` is combined with other permissions.
    error RootNotExclusive(bytes32 sessionId);

    /// @notice Permission `index` sets a field its type does not use, lacks one it needs, targets the
    ///         account or the validator, names a forbidden account selector, or exceeds 2**128-1.
    error InvalidPermission(bytes32 sessionId, uint256 index);

    /// @notice Permission `index` carries rule data this validator does not enforce (an unknown
    ///         version or kind, a kind not built yet, or rules on a type that takes none): a grant
    ///         whose rules would be ignored is refused, never enabled without them.
    error UnsupportedRules(bytes32 sessionId, uint256 index);

    /// @notice Permission `index`'s rules break their encoding: no rule, an unknown operator, a
    ///         wrong number of values, or a range whose bounds are reversed (docs/permissions.md).
    error InvalidRules(bytes32 sessionId, uint256 index);

    /// @notice Permission `index` repeats a limit (native, gas, or the same token) of the grant.
    error DuplicatePermission(bytes32 sessionId, uint256 index);

    /// @notice The grant was enabled or revoked before; a grant is enabled at most once.
    error SessionNotUnused(bytes32 sessionId, SessionStatus status);

    /// @notice The session was revoked already.
    error SessionAlreadyRevoked(bytes32 sessionId);

    /// @notice Only the grant's account or its session key may revoke it.
    error NotSessionAuthority(bytes32 sessionId, address caller);

    // ------------------------------------------------------------ events

    event SessionEnabled(
        address indexed account,
        bytes32 indexed sessionId,
        address indexed sessionKey,
        uint48 validAfter,
        uint48 validUntil
    );

    event SessionRevoked(address indexed account, bytes32 indexed sessionId, address revoker);

    /// @notice Every session of `account` enabled before is revoked; `epoch` is the new epoch.
    event AllSessionsRevoked(address indexed account, uint256 epoch);

    /// @notice A session spent `amount` of its allowance for `token` (zero: native value).
    event SessionSpent(bytes32 indexed sessionId, address indexed token, uint256 amount);

    // ------------------------------------------------------------ functions

    /// @notice Enables `grant` for the calling account (`grant.account` must be the caller).
    function enableSession(SessionGrant calldata grant) external returns (bytes32 sessionId);

    /// @notice Revokes `grant`, enabled or not yet used. Callable by the account or the session key.
    function revokeSession(SessionGrant calldata grant) external;

    /// @notice Charges what a balance-checked operation's calls moved out of the calling account:
    ///         `outflows[i]` of `assets[i]` (zero: native), measured by the account around the calls.
    ///         Called by the account in its execution phase (`LeashAccount.executeUserOp`), for the
    ///         operation `userOpHash` that validation prepared; a no-op for any other.
    function settleOutflow(bytes32 userOpHash, address[] calldata assets, uint256[] calldata outflows) external;

    /// @notice Revokes every session of the calling account by bumping its epoch.
    function revokeAllSessions() external;

    /// @notice The session id of `grant`: its EIP-712 digest under this validator's domain.
    function getSessionId(SessionGrant calldata grant) external view returns (bytes32);

    /// @notice The status of a session on `account`, its key and the epoch it was enabled in.
    function getSession(address account, bytes32 sessionId)
        external
        view
        returns (SessionStatus status, address sessionKey, uint256 epoch);

    /// @notice What is left of a live session's limit: `permissionType` is `NativeTokenTransfer`,
    ///         `GasLimit`, or `Erc20TokenTransfer` with `token`. Zero when the session holds no such
    ///         limit or is not live.
    function getRemaining(address account, bytes32 sessionId, PermissionType permissionType, address token)
        external
        view
        returns (uint256 remaining);

    /// @notice Whether `account` has installed this validator (ERC-7579 `onInstall`, not yet
    ///         `onUninstall`). While it has not, every session signature of the account fails.
    function isInitialized(address account) external view returns (bool);

    /// @notice How many more calls a live session's permission with a usage limit may make: the
    ///         permission is named by its compact rules, as a UserOperation attaches them (docs/
    ///         permissions.md). Zero when the session is not live or has no such permission.
    function getUsesLeft(address account, bytes32 sessionId, bytes calldata compactRules)
        external
        view
        returns (uint256);

    /// @notice What a live session's permission with a rate limit may still call in the current period,
    ///         and when the period ends (or, not started, starts); named by its compact rules.
    function getRateLeft(address account, bytes32 sessionId, bytes calldata compactRules)
        external
        view
        returns (uint256 left, uint256 resetsAt);

    /// @notice A limit's allowance now: what is left, and for a recurring allowance the amount per
    ///         period and when the current period ends (or, not started, when it starts).
    ///         `token` is ignored for native value.
    function getAllowance(address account, bytes32 sessionId, PermissionType permissionType, address token)
        external
        view
        returns (uint256 remaining, bool recurring, uint256 amountPerPeriod, uint256 resetsAt);

    /// @notice The revocation epoch of `account`.
    function epochOf(address account) external view returns (uint256);
}
