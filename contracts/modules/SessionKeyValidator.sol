// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ECDSA} from "solady/utils/ECDSA.sol";
import {EIP712} from "solady/utils/EIP712.sol";
import {SignatureCheckerLib} from "solady/utils/SignatureCheckerLib.sol";
import {IERC7579Validator, MODULE_TYPE_VALIDATOR} from "../interfaces/IERC7579Module.sol";
import {IPolicy} from "../interfaces/IPolicy.sol";
import {ISessionKeyValidator} from "../interfaces/ISessionKeyValidator.sol";
import {ExecutionLib} from "../libraries/ExecutionLib.sol";
import {GrantLib} from "../libraries/GrantLib.sol";
import {PeriodLib} from "../libraries/PeriodLib.sol";
import {RuleLib} from "../libraries/RuleLib.sol";
import {ScopeLib} from "../libraries/ScopeLib.sol";
import {SignatureLib} from "../libraries/SignatureLib.sol";
import {Execution} from "../types/Execution.sol";
import {
    ACCOUNT_EXECUTE,
    ACCOUNT_EXECUTE_FROM_EXECUTOR,
    ACCOUNT_EXECUTE_USER_OP,
    ACCOUNT_INSTALL_MODULE,
    ACCOUNT_UNINSTALL_MODULE,
    ACCOUNT_VALIDATE_USER_OP,
    ERC20_APPROVE,
    ERC20_INCREASE_ALLOWANCE,
    ERC20_TRANSFER,
    ERC20_TRANSFER_FROM,
    MAX_ALLOWANCE,
    PERMIT2,
    PERMIT2_APPROVE,
    Permission,
    RULE_POLICY,
    RULE_RATE,
    RULE_USAGE,
    PermissionType,
    SessionGrant,
    SessionStatus,
    GRANT_DOMAIN_VERSION,
    SIG_FLAG_RULES,
    SIG_FORM_MASK,
    SIG_MODE_ENABLE,
    SIG_MODE_USE_ROOT,
    SIG_SIGNER_SHIFT,
    SIGNER_SECP256K1,
    SIGNER_WEBAUTHN_FALLBACK
} from "../types/SessionTypes.sol";
import {SessionMessages} from "../signers/SessionMessages.sol";
import {SessionSigners} from "../signers/SessionSigners.sol";

/// @title SessionKeyValidator
/// @notice ERC-7579 validator for scoped session keys: an account's owner grants a key the eight
///         Wallet API permission types for a time window; the key then signs UserOperations alone.
/// @dev Assumptions:
/// - The calling account is the session's account (`msg.sender`); the validator never trusts
///   `userOp.sender`. Grants name their account, so a grant enables nowhere else.
/// - The owner's signature over a grant is one that recovers to the account (an EIP-7702 EOA) or that
///   the account accepts through ERC-1271.
/// - ERC-7562: validation reads no clock (windows go out in `validationData`) and touches only
///   storage associated with the account: every slot is `keccak256(account ‖ x)` (mappings with the
///   account as their innermost key, and the scope slots of `ScopeLib`).
/// - Installation is recorded here, in the account's word, by `onInstall` and `onUninstall`: an
///   account that has not installed the validator has no live session, and every signature fails
///   with `SIG_VALIDATION_FAILED`. This lets `LeashAccount`, which knows this validator's address,
///   skip its own installed check for it (one cold storage read less per UserOperation).
/// - Hot path: the account word (installed flag and epoch), then one scope word per rule a call
///   needs (see `ScopeLib`). A scope slot mixes in the recovered signer, so a signed operation never
///   reads the session record.
/// - A signature that does not verify costs at least what a valid one does, so that bundlers
///   estimate with placeholder signatures: the lazy form enables its grant and the use form falls
///   back to the session record's key (two more cold reads), every check then runs, a violation
///   reverts with its rule, and only then does validation return `SIG_VALIDATION_FAILED`. Writes
///   made on the way do not persist: the EntryPoint reverts an operation whose signature failed.
///   Accounts that install this validator must revert on `SIG_VALIDATION_FAILED` as the
///   EntryPoint does, never act on it.
/// - The key signs the UserOperation hash, which covers the nonce; the nonce lane (the low 32 bits
///   of the nonce key) must be the session id's first four bytes, so a relayer cannot move a
///   signature to another session of the same key.
/// - Limits are accounted during validation for the direct calls (ERC-20 spends on the token, plain
///   value transfers): a UserOperation that validates has spent those amounts, even if its execution
///   later reverts. Any other call, when the session limits an asset, needs the balance-checked form:
///   the account measures its balances around the calls (`LeashAccount.executeUserOp`) and
///   `settleOutflow` charges the decrease, so outflow is metered by what actually left, by any
///   path; a reverted execution charges nothing there. See `_checkOutflow`.
/// - Argument rules (`RuleLib`): a call under a ruled function permission carries the permission's
///   compact rules in the signature (the rules flag). They are authenticated by the scope they find,
///   written at enable under the binding of the rules and each combination of their set rules'
///   values, never by the key's signature; evaluating them reads only the call's calldata.
/// - Programmable permissions, by phase: argument rules and usage limits are checked in validation
///   (calldata and account-associated counters); policy contracts are called in validation
///   (`staticcall`, at most `POLICY_GAS`), bound by ERC-7562 like any unstaked contract; recurring
///   allowances and rate limits need the clock, so validation only records them and
///   `settleOutflow`, in the execution phase, charges them (the balance-checked form).
/// - Execution is only `execute` with single or batch call types: no delegatecall, no try mode.
/// - Gas is bounded for every scoped session: a UserOperation names a paymaster the grant names, or
///   the account pays and the session's `GasLimit` is charged the maximum cost. Root sessions keep
///   "any call": any paymaster, or the account without a bound. What a named paymaster charges (an
///   ERC-20 paymaster's tokens, in its `postOp`) is outside every limit (docs/permissions.md).
contract SessionKeyValidator is IERC7579Validator, ISessionKeyValidator, EIP712 {
    uint256 internal constant SIG_VALIDATION_FAILED = 1;

    /// @dev Session record word: `status (bits 192..199) | epoch (160..191) | sessionKey (0..159)`,
    ///      i.e. `status << 192 | ScopeLib.keyEpoch(sessionKey, epoch)`. Validation reads it only to
    ///      tell a bad signature from a scope violation.
    uint256 private constant _RECORD_STATUS_SHIFT = 192;
    uint256 private constant _KEY_EPOCH_MASK = (1 << 192) - 1;

    /// @dev Account word: `epoch (bits 1..32) | installed (bit 0)`. One word, so that validation's
    ///      single per-account read answers both "installed?" and "which epoch?".
    uint256 private constant _INSTALLED = 1;

    /// @notice The gas a policy contract gets for one `checkCall`: a policy that needs more refuses.
    uint256 public constant POLICY_GAS = 100_000;

    /// @notice The most of a policy's answer (or revert data) the validator copies: a policy cannot
    ///         make validation pay to copy a large answer (a return bomb), and `PolicyRefused` carries
    ///         at most this many bytes of its reason.
    uint256 public constant POLICY_ANSWER_BYTES = 256;

    /// @dev Marks a use counter's tag (`_counterTag`) apart from a ruled scope's (`_ruledTag`), whose
    ///      first word is a scope tag, below 2**200.
    uint256 private constant _COUNTER = type(uint256).max;

    /// @dev Marks a rate counter's tag (`_rateTag`) apart from use counters and ruled scopes.
    uint256 private constant _RATE = type(uint256).max - 1;

    /// @dev The ERC-7579 call type and exec type bytes, `callType << 8 | execType`, that sessions
    ///      may use: a single call or a batch, reverting on failure (what `LeashAccount` executes).
    uint256 private constant _SINGLE_DEFAULT = uint256(uint8(ExecutionLib.CALLTYPE_SINGLE)) << 8;
    uint256 private constant _BATCH_DEFAULT = uint256(uint8(ExecutionLib.CALLTYPE_BATCH)) << 8;

    /// @notice Checks the signatures of session keys that are not secp256k1 EOAs; deployed with this
    ///         validator, so that its address follows from the validator's.
    SessionSigners public immutable SIGNERS;

    /// @notice Reads and verifies session signatures of messages (ERC-7739); deployed with this
    ///         validator.
    SessionMessages public immutable MESSAGES;

    mapping(address account => uint256) internal _accounts;
    mapping(bytes32 sessionId => mapping(address account => uint256)) internal _records;

    // Scopes live at `ScopeLib.slot`: keccak256(account ‖ sessionId ‖ keyEpoch ‖ tag).

    /// @dev What validation knows about the session it is checking.
    struct Use {
        // The account, session id and `keyEpoch` of the *recovered* signer: the scope slot preimage.
        ScopeLib.Key key;
        bool root;
        // Set once a scope of `key` was found: the signer is then the key of a live session.
        bool authenticated;
        // The first scope found; every scope of a session carries the same window and flags.
        uint256 scope;
        // The lazy form's signatures did not verify: every check still runs, then the signature fails.
        bool signatureFailed;
        // The operation takes the balance-checked form (`executeUserOp`): see `_checkOutflow`.
        bool checked;
        // A call the selector meter does not cover was found, that puts an asset the session limits
        // at risk; the first such call, for the error.
        bool unmetered;
        address unmeteredTarget;
        bytes4 unmeteredSelector;
        // The signature's rule attachments, as calldata positions: where they start and end, and the
        // next one to use (see `_checkRuledCall`).
        uint256 rulesStart;
        uint256 rulesCursor;
        uint256 rulesEnd;
    }

    // ---------------------------------------------------------------- ERC-7579

    /// @inheritdoc IERC7579Validator
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        payable
        returns (uint256)
    {
        uint256 accountWord = _accounts[msg.sender];
        bytes calldata signature = userOp.signature;
        // Not installed: the account has no live session (see `onInstall`).
        if (accountWord & _INSTALLED == 0 || signature.length == 0) return SIG_VALIDATION_FAILED;
        uint256 epoch = accountWord >> 1;
        Use memory use =
            Use(ScopeLib.Key(msg.sender, 0, 0, 0), false, false, 0, false, false, false, address(0), 0, 0, 0, 0);
        // `signerKind << SIG_SIGNER_SHIFT | form` once the rules flag is handled.
        uint256 mode = _byteAt(signature, 0);
        if (mode & SIG_FLAG_RULES != 0) {
            bool framed;
            (signature, framed) = _splitAttachments(use, signature);
            mode ^= SIG_FLAG_RULES;
            // Root sessions take no rules.
            if (!framed || mode & SIG_FORM_MASK == SIG_MODE_USE_ROOT) return SIG_VALIDATION_FAILED;
        }
        if (mode >> SIG_SIGNER_SHIFT > SIGNER_WEBAUTHN_FALLBACK) return SIG_VALIDATION_FAILED;
        if (mode & SIG_FORM_MASK == SIG_MODE_ENABLE) {
            (bool ok, SessionGrant calldata grant, bytes calldata ownerSignature, bytes calldata keySignature) =
                GrantLib.decodeEnable(signature[1:]);
            if (!ok) return SIG_VALIDATION_FAILED;
            use.key.sessionId = _sessionId(grant);
            // Both signatures are always recovered and they decide only the result: the grant is
            // enabled and every check runs either way, so that an estimate made with placeholder
            // signatures pays for all of it. The EntryPoint reverts a failed signature, and the
            // enable with it.
            use.key.keyEpoch = _grantKeyEpoch(grant, epoch);
            use.signatureFailed = !_isOwnerSignature(msg.sender, use.key.sessionId, ownerSignature)
                || !_isKeySignature(mode >> SIG_SIGNER_SHIFT, userOpHash, keySignature, use.key.keyEpoch);
            // A grant already enabled is simply used, so a client may keep sending the enable form.
            if (_records[use.key.sessionId][msg.sender] == 0) _enable(use.key, grant);
            // Root can only be the only permission. (A grant revoked before use may have none.)
            Permission[] calldata permissions = grant.permissions;
            if (permissions.length != 0) {
                (PermissionType first,,,,) = _permissionAt(permissions, 0);
                use.root = first == PermissionType.Root;
            }
        } else if (
            mode & SIG_FORM_MASK <= SIG_MODE_USE_ROOT
                && (signature.length == 98 || mode >> SIG_SIGNER_SHIFT != SIGNER_SECP256K1)
        ) {
            // Layout: mode (1) ‖ sessionId (32) ‖ key signature; `r ‖ s ‖ v` (65) for a secp256k1 key.
            bytes32 sessionId;
            bytes calldata keySignature;
            assembly ("memory-safe") {
                sessionId := calldataload(add(signature.offset, 1))
                keySignature.offset := add(signature.offset, 33)
                keySignature.length := mul(gt(signature.length, 33), sub(signature.length, 33))
            }
            use.key.sessionId = sessionId;
            // The signer names the scopes. A wrong signer finds none, and `_authenticate` then runs
            // the checks as the session's own key before it fails the signature; the right signer
            // with a bad signature (a claimed or derived id) runs them and fails it at the end.
            address signer;
            if (mode >> SIG_SIGNER_SHIFT == SIGNER_SECP256K1) {
                signer = SignatureLib.tryRecover65Calldata(userOpHash, keySignature);
            } else {
                bool signed;
                (signer, signed) = SIGNERS.check(mode >> SIG_SIGNER_SHIFT, userOpHash, keySignature);
                use.signatureFailed = !signed;
            }
            use.key.keyEpoch = ScopeLib.keyEpoch(signer, epoch);
            use.root = mode & SIG_FORM_MASK == SIG_MODE_USE_ROOT;
        } else {
            return SIG_VALIDATION_FAILED;
        }
        // The key's signature covers the nonce: its lane binds the signature to this session.
        uint256 lane;
        assembly ("memory-safe") {
            lane := and(shr(64, calldataload(add(userOp, 0x20))), 0xffffffff)
        }
        if (lane != uint256(use.key.sessionId) >> 224) revert WrongNonceLane(use.key.sessionId, lane);
        _checkCalls(use, userOp.callData);
        _checkPayer(use, userOp);
        // A failed signature keeps the window (ERC-4337 allows it) so that both outcomes cost the same.
        return ScopeLib.validationData(use.scope) | _flag(use.signatureFailed);
    }

    constructor() {
        SessionSigners signers = new SessionSigners();
        SIGNERS = signers;
        MESSAGES = new SessionMessages(signers);
    }

    /// @notice ERC-1271 for a session key signing as the account (docs/permissions.md, "Signing as
    ///         the account"): `signature` is `executingUserOpHash (32) ‖ session signature`, the hash
    ///         of the account's operation executing now (zero if none), then what `SessionMessages`
    ///         reads. Valid when a live session's key signed, within its window, under a
    ///         `PersonalSign` scope, or a `TypedDataSigning` scope of the app's contract while this
    ///         session's own balance-checked operation executes: every asset the signature lets move
    ///         during it is then charged by `settleOutflow`, and after it the signature is void.
    function isValidSignatureWithSender(address, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4)
    {
        if (signature.length < 32) return 0xffffffff;
        (bytes32 sessionId, address signer, bool valid, bool typed, address domain) =
            MESSAGES.check(msg.sender, hash, signature[32:]);
        uint256 keyEpoch = ScopeLib.keyEpoch(signer, _epochOf(msg.sender));
        if (!valid || _records[sessionId][msg.sender] != _record(keyEpoch, SessionStatus.Enabled)) return 0xffffffff;
        uint256 scope = ScopeLib.load(
            ScopeLib.slot(
                ScopeLib.Key(msg.sender, sessionId, keyEpoch, 0),
                ScopeLib.tag(typed ? PermissionType.TypedDataSigning : PermissionType.PersonalSign, 0, domain)
            )
        );
        // EntryPoint's window: validAfter < now ≤ validUntil.
        bool due = block.timestamp > scope >> 208 && block.timestamp <= uint48(scope >> 160);
        bytes32 executing = bytes32(signature[0:32]);
        bytes32 slot = _outflowSlot(msg.sender, executing);
        bytes32 executingSession;
        assembly ("memory-safe") {
            executingSession := tload(slot)
        }
        if (scope == 0 || !due || (typed && (executing == 0 || executingSession != sessionId))) return 0xffffffff;
        return 0x1626ba7e;
    }

    /// @notice Marks the validator installed for the calling account; sessions are enabled one by one.
    /// @dev Idempotent: the account decides whether installing twice is an error.
    function onInstall(bytes calldata) external payable {
        _accounts[msg.sender] |= _INSTALLED;
    }

    /// @notice Marks the validator uninstalled and revokes every session, so a later reinstall
    ///         starts from none.
    function onUninstall(bytes calldata) external payable {
        _revokeAll(msg.sender, 0);
    }

    /// @inheritdoc ISessionKeyValidator
    function isInitialized(address account) external view returns (bool) {
        return _accounts[account] & _INSTALLED != 0;
    }

    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    // ---------------------------------------------------------------- enable and revoke

    /// @inheritdoc ISessionKeyValidator
    function enableSession(SessionGrant calldata grant) external returns (bytes32 sessionId) {
        sessionId = _sessionId(grant);
        _enable(
            ScopeLib.Key(msg.sender, sessionId, ScopeLib.keyEpoch(grant.sessionKey, _epochOf(msg.sender)), 0), grant
        );
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeSession(SessionGrant calldata grant) external {
        bytes32 sessionId = _sessionId(grant);
        if (msg.sender != grant.account && msg.sender != grant.sessionKey) {
            revert NotSessionAuthority(sessionId, msg.sender);
        }
        address account = grant.account;
        uint256 record = _records[sessionId][account];
        uint256 keyEpoch = ScopeLib.keyEpoch(grant.sessionKey, _epochOf(account));
        if (record != 0) {
            if (record >> _RECORD_STATUS_SHIFT == uint256(SessionStatus.Revoked)) {
                revert SessionAlreadyRevoked(sessionId);
            }
            // Clearing each scope is what stops validation: it never reads this record on success.
            // The scopes were written under the epoch of the enable, which the record holds.
            keyEpoch = record & _KEY_EPOCH_MASK;
            _applyPermissions(ScopeLib.Key(account, sessionId, keyEpoch, 0), grant.permissions, 0);
        }
        _records[sessionId][account] = _record(keyEpoch, SessionStatus.Revoked);
        emit SessionRevoked(account, sessionId, msg.sender);
    }

    /// @inheritdoc ISessionKeyValidator
    /// @dev Reads what `_checkOutflow` left for this operation and clears it, so it is charged once.
    ///      A token scope that is gone (the session was revoked after validation) stops the outflow.
    function settleOutflow(bytes32 userOpHash, address[] calldata assets, uint256[] calldata outflows) external {
        bytes32 slot = _outflowSlot(msg.sender, userOpHash);
        bytes32 sessionId;
        uint256 keyEpoch;
        assembly ("memory-safe") {
            sessionId := tload(slot)
            keyEpoch := tload(add(slot, 1))
            tstore(slot, 0)
            tstore(add(slot, 1), 0)
        }
        if (sessionId == 0) return;
        ScopeLib.Key memory key = ScopeLib.Key(msg.sender, sessionId, keyEpoch, 0);
        _settleRatedCalls(key, slot);
        for (uint256 i; i < assets.length; ++i) {
            uint256 outflow = outflows[i];
            if (outflow == 0) continue;
            address asset = assets[i];
            PermissionType kind =
                asset == address(0) ? PermissionType.NativeTokenTransfer : PermissionType.Erc20TokenTransfer;
            bytes32 scopeSlot = ScopeLib.slot(key, ScopeLib.tag(kind, 0, asset));
            uint256 scope = ScopeLib.load(scopeSlot);
            if (scope & ScopeLib.FLAG_RECURRING != 0) {
                _settleRecurring(key, kind, asset, scope, outflow);
            } else {
                uint256 left = ScopeLib.remaining(scope);
                if (scope == 0 || outflow > left) revert OutflowExceeded(sessionId, asset, outflow, left);
                ScopeLib.store(scopeSlot, ScopeLib.spend(scope, outflow));
            }
            emit SessionSpent(sessionId, asset, outflow);
        }
    }

    /// @dev Charges `outflow` to the current period of a recurring allowance: the clock is read here,
    ///      in the execution phase.
    function _settleRecurring(
        ScopeLib.Key memory key,
        PermissionType kind,
        address asset,
        uint256 scope,
        uint256 outflow
    ) internal {
        bytes32 stateSlot = ScopeLib.slot(key, ScopeLib.tag(kind, ScopeLib.RECURRING_STATE, asset));
        uint256 state = ScopeLib.load(stateSlot);
        (bool started, uint256 left, uint256 endsAt, uint256 number) =
            PeriodLib.remaining(state, ScopeLib.remaining(scope), block.timestamp);
        if (!started || outflow > left) {
            revert RecurringAllowanceExceeded(key.sessionId, asset, outflow, left, endsAt);
        }
        ScopeLib.store(stateSlot, PeriodLib.spend(state, number, outflow));
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeAllSessions() external {
        _revokeAll(msg.sender, _accounts[msg.sender] & _INSTALLED);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISessionKeyValidator
    function getSessionId(SessionGrant calldata grant) external view returns (bytes32) {
        return _sessionId(grant);
    }

    /// @inheritdoc ISessionKeyValidator
    function getSession(address account, bytes32 sessionId)
        external
        view
        returns (SessionStatus status, address sessionKey, uint256 epoch)
    {
        return _session(account, sessionId);
    }

    /// @inheritdoc ISessionKeyValidator
    function getRemaining(address account, bytes32 sessionId, PermissionType permissionType, address token)
        external
        view
        returns (uint256 remaining)
    {
        (remaining,,,) = _liveAllowance(account, sessionId, permissionType, token);
    }

    /// @inheritdoc ISessionKeyValidator
    function getUsesLeft(address account, bytes32 sessionId, bytes calldata compactRules)
        external
        view
        returns (uint256)
    {
        (bool live, ScopeLib.Key memory key) = _liveKey(account, sessionId);
        if (!live) return 0;
        return ScopeLib.load(ScopeLib.slot(key, _counterTag(keccak256(compactRules))));
    }

    /// @inheritdoc ISessionKeyValidator
    function getRateLeft(address account, bytes32 sessionId, bytes calldata compactRules)
        external
        view
        returns (uint256 left, uint256 resetsAt)
    {
        (bool live, ScopeLib.Key memory key) = _liveKey(account, sessionId);
        uint256 limit = RuleLib.countOf(compactRules, RULE_RATE);
        if (!live || limit == 0) return (0, 0);
        uint256 state = ScopeLib.load(ScopeLib.slot(key, _rateTag(keccak256(compactRules))));
        (, left, resetsAt,) = PeriodLib.remaining(state, limit, block.timestamp);
    }

    /// @inheritdoc ISessionKeyValidator
    function getAllowance(address account, bytes32 sessionId, PermissionType permissionType, address token)
        external
        view
        returns (uint256 remaining, bool recurring, uint256 amountPerPeriod, uint256 resetsAt)
    {
        return _liveAllowance(account, sessionId, permissionType, token);
    }

    /// @dev A live session's allowance (`getAllowance`); all zero for a session that is not live.
    function _liveAllowance(address account, bytes32 sessionId, PermissionType permissionType, address token)
        internal
        view
        returns (uint256, bool, uint256, uint256)
    {
        (bool live, ScopeLib.Key memory key) = _liveKey(account, sessionId);
        if (!live) return (0, false, 0, 0);
        if (permissionType != PermissionType.Erc20TokenTransfer) token = address(0);
        return _allowance(key, permissionType, token);
    }

    /// @dev The scope key of a session, and whether it is live (enabled in the current epoch): the
    ///      views read its scopes only then.
    function _liveKey(address account, bytes32 sessionId) internal view returns (bool live, ScopeLib.Key memory key) {
        (SessionStatus status, address sessionKey, uint256 epoch) = _session(account, sessionId);
        live = status == SessionStatus.Enabled;
        key = ScopeLib.Key(account, sessionId, ScopeLib.keyEpoch(sessionKey, epoch), 0);
    }

    function _allowance(ScopeLib.Key memory key, PermissionType permissionType, address token)
        internal
        view
        returns (uint256 remaining, bool recurring, uint256 amountPerPeriod, uint256 resetsAt)
    {
        uint256 scope = ScopeLib.load(ScopeLib.slot(key, ScopeLib.tag(permissionType, 0, token)));
        remaining = ScopeLib.remaining(scope);
        if (scope & ScopeLib.FLAG_RECURRING == 0) return (remaining, false, 0, 0);
        uint256 state = ScopeLib.load(ScopeLib.slot(key, ScopeLib.tag(permissionType, ScopeLib.RECURRING_STATE, token)));
        (, uint256 left, uint256 endsAt,) = PeriodLib.remaining(state, remaining, block.timestamp);
        return (left, true, remaining, endsAt);
    }

    /// @inheritdoc ISessionKeyValidator
    function epochOf(address account) external view returns (uint256) {
        return _epochOf(account);
    }

    // ---------------------------------------------------------------- validation internals

    /// @dev Every rule of the session against the operation, the gas it may cost included; returns its
    ///      `validationData` (the session's window). For `_authenticate`'s second pass;
    ///      `validateUserOp` spells the same two steps out, because calling this costs every
    ///      operation about 60 gas.
    function _checkOperation(Use memory use, PackedUserOperation calldata userOp) internal returns (uint256) {
        _checkCalls(use, userOp.callData);
        _checkPayer(use, userOp);
        return ScopeLib.validationData(use.scope);
    }

    function _checkCalls(Use memory use, bytes calldata callData) internal {
        use.rulesCursor = use.rulesStart;
        bytes calldata executeCall = callData;
        bytes4 selector = _selectorOf(callData);
        // The balance-checked form wraps the same `execute` call in `executeUserOp`.
        if (selector == ACCOUNT_EXECUTE_USER_OP) {
            use.checked = true;
            executeCall = callData[4:];
            selector = _selectorOf(executeCall);
        }
        if (selector != ACCOUNT_EXECUTE) {
            _authenticate(use);
            revert NotAnExecuteCall(use.key.sessionId, selector);
        }
        (bytes32 mode, bytes calldata executionCalldata) = ExecutionLib.decodeExecuteCall(executeCall);
        if (use.root && !_has(use, ScopeLib.tag(PermissionType.Root, 0, address(0)))) {
            _authenticate(use);
            revert NotRootSession(use.key.sessionId);
        }
        // Call type (mode byte 0) and exec type (byte 1) in one word; the account ignores the rest.
        uint256 callAndExecType = uint256(mode) >> 240;
        if (callAndExecType == _SINGLE_DEFAULT) {
            (address target, uint256 value, bytes calldata data) = ExecutionLib.decodeSingle(executionCalldata);
            _checkCall(use, 0, target, value, data);
        } else if (callAndExecType == _BATCH_DEFAULT) {
            Execution[] calldata executions = ExecutionLib.decodeBatch(executionCalldata);
            for (uint256 i; i < executions.length; ++i) {
                _checkCall(use, i, executions[i].target, executions[i].value, executions[i].callData);
            }
        } else {
            _authenticate(use);
            revert UnsupportedExecutionMode(use.key.sessionId, mode);
        }
        // An empty batch found no scope, so nothing has vouched for the signer yet.
        if (!use.authenticated) {
            _authenticate(use);
            revert CallNotAllowed(use.key.sessionId, address(0), bytes4(0));
        }
        if (use.rulesCursor != use.rulesEnd) {
            revert UnusedRuleAttachment(use.key.sessionId, _byteAt(_calldataFrom(use.rulesCursor), 0));
        }
        _checkOutflow(use, callData);
    }

    /// @dev Outflow by what actually left. A call of the direct kind (an ERC-20 spend on the token,
    ///      a plain value transfer) is metered here by its argument. Any other call may move a limited
    ///      asset by a path no selector shows (Permit2, an earlier approval, a forwarder, a callback),
    ///      so when the session limits an asset, such an operation must take the balance-checked
    ///      form: `LeashAccount.executeUserOp` measures the account's balance of every limited asset
    ///      around the calls and charges the decrease (`settleOutflow`). The form lists the session's
    ///      limited tokens, all of them, ascending; the count in the scope's flags proves the list
    ///      complete without enumerating storage. Validation may not read token balances (foreign
    ///      storage, ERC-7562), so it leaves the session and key for the execution phase in
    ///      transient storage at a slot associated with the account.
    function _checkOutflow(Use memory use, bytes calldata callData) internal {
        if (!use.checked) {
            if (use.unmetered) {
                revert OutflowCheckRequired(use.key.sessionId, use.unmeteredTarget, use.unmeteredSelector);
            }
            return;
        }
        bytes calldata tokens = ExecutionLib.outflowTokens(callData);
        uint256 declared = tokens.length / 20;
        uint256 limited = (use.scope >> ScopeLib.TOKEN_COUNT_SHIFT) & ScopeLib.MAX_TOKEN_COUNT;
        bool complete = declared == limited;
        address previous;
        for (uint256 i; complete && i < declared; ++i) {
            address token = ExecutionLib.tokenAt(tokens, i);
            complete = token > previous && _has(use, ScopeLib.tag(PermissionType.Erc20TokenTransfer, 0, token));
            previous = token;
        }
        if (!complete) revert InvalidOutflowTokens(use.key.sessionId, declared, limited);
        if (use.scope & (ScopeLib.ASSET_LIMITS | ScopeLib.FLAG_SIGNS_TYPED_DATA) == 0) return;
        _leaveContext(use);
    }

    /// @dev Leaves the session and key for the execution phase in the operation's transient context
    ///      (`_outflowSlot`), and returns its slot.
    function _leaveContext(Use memory use) internal returns (bytes32 slot) {
        slot = _outflowSlot(use.key.account, _userOpHashArgument());
        bytes32 sessionId = use.key.sessionId;
        uint256 keyEpoch = use.key.keyEpoch;
        assembly ("memory-safe") {
            tstore(slot, sessionId)
            tstore(add(slot, 1), keyEpoch)
        }
    }

    /// @dev Records a call the selector meter does not cover, when it puts at risk (`atRisk`, flags of
    ///      `ScopeLib`) an asset the session limits. Called after the call found its scope.
    function _unmetered(Use memory use, address target, bytes4 selector, uint256 atRisk) internal pure {
        if (!use.unmetered && use.scope & atRisk != 0) {
            use.unmetered = true;
            use.unmeteredTarget = target;
            use.unmeteredSelector = selector;
        }
    }

    function _checkCall(Use memory use, uint256 callIndex, address target, uint256 value, bytes calldata data)
        internal
    {
        bool hasSelector = data.length >= 4;
        bytes4 selector = _selectorOf(data);
        address account = use.key.account;
        if (target == address(this) || (target == account && (use.root || !hasSelector || _isForbidden(selector)))) {
            _authenticate(use);
            revert ForbiddenCall(use.key.sessionId, target, selector);
        }
        if (use.root) return;
        if (target == account) {
            if (!_has(use, ScopeLib.tag(PermissionType.FunctionsOnContract, selector, target))) {
                _authenticate(use);
                revert CallNotAllowed(use.key.sessionId, target, selector);
            }
            _unmetered(use, target, selector, ScopeLib.ASSET_LIMITS);
        } else if (hasSelector && _isErc20Spend(selector)) {
            _spendErc20(use, target, selector, data);
        } else if (target == PERMIT2 && selector == PERMIT2_APPROVE) {
            // Permit2's own allowance of a token moves no balance now but lets the spender pull it
            // later, outside any operation: metered like the token's `approve`, for its first argument.
            _spendErc20(use, _addressArgument(data), selector, data);
        } else if (_hasAttachment(use, callIndex)) {
            _checkRuledCall(use, target, value, data, selector);
            _unmetered(use, target, selector, ScopeLib.ASSET_LIMITS);
        } else if (data.length != 0 || value == 0) {
            // A plain value transfer needs no function permission; anything else needs one.
            if (
                !(hasSelector && _has(use, ScopeLib.tag(PermissionType.FunctionsOnContract, selector, target)))
                    && !_has(use, ScopeLib.tag(PermissionType.ContractAccess, 0, target))
                    && !(hasSelector
                        && _has(use, ScopeLib.tag(PermissionType.FunctionsOnContract, selector, address(0))))
            ) {
                _authenticate(use);
                revert CallNotAllowed(use.key.sessionId, target, selector);
            }
            _unmetered(use, target, selector, ScopeLib.ASSET_LIMITS);
        }
        if (value != 0) {
            _spendNative(use, target, value);
            // The recipient's code may pull tokens through an earlier approval: metered as value
            // only, a plain transfer is direct for a session that limits no token.
            if (data.length == 0) _unmetered(use, target, selector, ScopeLib.TOKEN_LIMITS);
        }
    }

    /// @dev A call that carries rules: allowed only by a ruled scope of those rules and of the words
    ///      its set rules read, on the call's target or on all contracts, and only if every other rule
    ///      holds. The lookup comes before a rule's error, so that errors speak of granted rules (a word
    ///      out of range leaves nothing to look up). Its value is still metered by the caller.
    function _checkRuledCall(Use memory use, address target, uint256 value, bytes calldata data, bytes4 selector)
        internal
    {
        // The next attachment: `uint8 callIndex ‖ uint16 length ‖ rules`, framed by `_splitAttachments`.
        bytes calldata rules;
        {
            uint256 cursor = use.rulesCursor;
            assembly ("memory-safe") {
                rules.offset := add(cursor, 3)
                rules.length := shr(240, shl(8, calldataload(cursor)))
            }
            use.rulesCursor = cursor + 3 + rules.length;
        }
        (uint256 outcome, uint256 ruleIndex, uint256 actual, uint256[] memory setWords) =
            RuleLib.evaluate(rules, value, data);
        if (outcome & RuleLib.OUT_OF_RANGE != 0) {
            _authenticate(use);
            revert ArgumentOutOfRange(use.key.sessionId, target, selector, ruleIndex, actual);
        }
        if (!_hasRuledScope(use, target, selector, RuleLib.bind(rules, setWords))) {
            _authenticate(use);
            if (setWords.length == 0) revert CallNotAllowed(use.key.sessionId, target, selector);
            revert ArgumentsNotAllowed(use.key.sessionId, target, selector, setWords);
        }
        if (outcome & RuleLib.FAILED != 0) {
            revert CallRuleFailed(use.key.sessionId, target, selector, ruleIndex, actual);
        }
        if (outcome & RuleLib.COUNTS_USES != 0) _countUse(use, target, selector, rules);
        if (outcome & RuleLib.ASKS_POLICY != 0) _askPolicies(use, target, value, data, rules);
        if (outcome & RuleLib.RATE_LIMITED != 0) _recordRatedCall(use, target, selector, rules);
    }

    /// @dev A call under a rate limit is counted in the execution phase, the only one that may read the
    ///      clock: it needs the balance-checked form, whose `settleOutflow` charges it. Validation leaves
    ///      it in the operation's transient context (`_outflowSlot`): after the session and key, the
    ///      number of rated calls, then per call the counter's tag, the limit, and target ‖ selector.
    function _recordRatedCall(Use memory use, address target, bytes4 selector, bytes calldata rules) internal {
        if (!use.checked) revert OutflowCheckRequired(use.key.sessionId, target, selector);
        bytes32 slot = _leaveContext(use);
        uint256 tag = _rateTag(keccak256(rules));
        uint256 limit = RuleLib.countOf(rules, RULE_RATE);
        assembly ("memory-safe") {
            let n := tload(add(slot, 2))
            let entry := add(slot, add(3, mul(n, 3)))
            tstore(entry, tag)
            tstore(add(entry, 1), limit)
            tstore(add(entry, 2), or(shl(96, target), shr(224, selector)))
            tstore(add(slot, 2), add(n, 1))
        }
    }

    /// @dev Charges the rated calls validation recorded, each one call of its counter's current period.
    function _settleRatedCalls(ScopeLib.Key memory key, bytes32 slot) internal {
        uint256 n;
        assembly ("memory-safe") {
            n := tload(add(slot, 2))
            tstore(add(slot, 2), 0)
        }
        for (uint256 i; i < n; ++i) {
            uint256 tag;
            uint256 limit;
            uint256 targetAndSelector;
            assembly ("memory-safe") {
                let entry := add(slot, add(3, mul(i, 3)))
                tag := tload(entry)
                limit := tload(add(entry, 1))
                targetAndSelector := tload(add(entry, 2))
            }
            bytes32 stateSlot = ScopeLib.slot(key, tag);
            uint256 state = ScopeLib.load(stateSlot);
            (bool started, uint256 left, uint256 endsAt, uint256 number) =
                PeriodLib.remaining(state, limit, block.timestamp);
            if (!started || left == 0) {
                revert RateLimitReached(
                    key.sessionId,
                    address(uint160(targetAndSelector >> 96)),
                    bytes4(uint32(targetAndSelector)),
                    limit,
                    endsAt
                );
            }
            ScopeLib.store(stateSlot, PeriodLib.spend(state, number, 1));
        }
    }

    /// @dev The tag of the rate counter of the permission whose compact rules hash to `compactHash`.
    function _rateTag(bytes32 compactHash) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(_RATE, compactHash)));
    }

    /// @dev Every policy rule of the call's rules, in order: the policy's `checkCall` must allow it.
    function _askPolicies(Use memory use, address target, uint256 value, bytes calldata data, bytes calldata rules)
        internal
        view
    {
        uint256 ruleIndex;
        for (uint256 p; p < rules.length; ++ruleIndex) {
            (uint256 kind, uint256 next) = RuleLib.kindAt(rules, p);
            if (kind == RULE_POLICY) {
                (address policy, bytes calldata config) = RuleLib.policyAt(rules, p);
                _askPolicy(use, target, value, data, ruleIndex, policy, config);
            }
            p = next;
        }
    }

    /// @dev One policy's answer, with at most `POLICY_GAS`: anything but its selector refuses the call.
    function _askPolicy(
        Use memory use,
        address target,
        uint256 value,
        bytes calldata data,
        uint256 ruleIndex,
        address policy,
        bytes calldata config
    ) internal view {
        bytes memory request = abi.encodeCall(
            IPolicy.checkCall, (use.key.account, use.key.sessionId, target, value, data, config)
        );
        bool ok;
        bytes memory answer;
        assembly ("memory-safe") {
            ok := staticcall(POLICY_GAS, policy, add(request, 0x20), mload(request), 0x00, 0x00)
            let size := returndatasize()
            if gt(size, POLICY_ANSWER_BYTES) { size := POLICY_ANSWER_BYTES }
            answer := mload(0x40)
            mstore(answer, size)
            returndatacopy(add(answer, 0x20), 0x00, size)
            mstore(0x40, add(add(answer, 0x20), and(add(size, 31), not(31))))
        }
        if (ok && answer.length >= 32 && bytes4(bytes32(answer)) == IPolicy.checkCall.selector) return;
        revert PolicyRefused(use.key.sessionId, target, _selectorOf(data), ruleIndex, policy, ok ? bytes("") : answer);
    }

    /// @dev One more call under a permission with a usage limit: its counter, written at enable with
    ///      the limit, goes down by one and may not go below zero.
    function _countUse(Use memory use, address target, bytes4 selector, bytes calldata rules) internal {
        uint256 limit = RuleLib.countOf(rules, RULE_USAGE);
        bytes32 counterSlot = ScopeLib.slot(use.key, _counterTag(keccak256(rules)));
        uint256 left = ScopeLib.load(counterSlot);
        if (left == 0) revert UsageLimitReached(use.key.sessionId, target, selector, limit);
        ScopeLib.store(counterSlot, left - 1);
    }

    /// @dev The tag of the use counter of the permission whose compact rules hash to `compactHash`.
    function _counterTag(bytes32 compactHash) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(_COUNTER, compactHash)));
    }

    /// @dev Whether the session holds the ruled scope `binding` for `selector`, on `target` or on all
    ///      contracts.
    function _hasRuledScope(Use memory use, address target, bytes4 selector, bytes32 binding)
        internal
        view
        returns (bool)
    {
        uint256 onTarget = ScopeLib.tag(PermissionType.FunctionsOnContract, selector, target);
        if (_has(use, _ruledTag(onTarget, binding))) return true;
        return _has(use, _ruledTag(ScopeLib.tag(PermissionType.FunctionsOnContract, selector, address(0)), binding));
    }

    /// @dev Whether the next rule attachment is for call `callIndex`.
    function _hasAttachment(Use memory use, uint256 callIndex) internal pure returns (bool) {
        uint256 cursor = use.rulesCursor;
        return cursor != use.rulesEnd && _byteAt(_calldataFrom(cursor), 0) == callIndex;
    }

    /// @dev Splits a signature with the rules flag into its body and its attachments (recorded in
    ///      `use`): `body ‖ attachments ‖ uint16 attachmentsLength`, the attachments a sequence of
    ///      `uint8 callIndex ‖ uint16 length ‖ rules`. `framed` is false when they do not parse.
    function _splitAttachments(Use memory use, bytes calldata signature)
        internal
        pure
        returns (bytes calldata body, bool framed)
    {
        uint256 start;
        uint256 end;
        assembly ("memory-safe") {
            let length := signature.length
            let attachmentsLength := shr(240, calldataload(sub(add(signature.offset, length), 2)))
            framed := and(gt(length, 2), iszero(gt(add(attachmentsLength, 3), length)))
            body.offset := signature.offset
            body.length := mul(framed, sub(sub(length, 2), attachmentsLength))
            start := add(signature.offset, body.length)
            end := add(start, attachmentsLength)
            let cursor := start
            for {} and(framed, iszero(gt(add(cursor, 3), end))) {} {
                cursor := add(cursor, add(3, and(shr(232, calldataload(cursor)), 0xffff)))
            }
            framed := and(framed, eq(cursor, end))
        }
        use.rulesStart = start;
        use.rulesCursor = start;
        use.rulesEnd = end;
    }

    /// @dev The tag of a ruled scope: the plain scope's tag bound to its rules and one combination of
    ///      its set rules' words (`RuleLib.bind`).
    function _ruledTag(uint256 plainTag, bytes32 binding) internal pure returns (uint256 result) {
        assembly ("memory-safe") {
            mstore(0x00, plainTag)
            mstore(0x20, binding)
            result := keccak256(0x00, 0x40)
        }
    }

    /// @dev An empty calldata slice at absolute position `position`, for `_byteAt`.
    function _calldataFrom(uint256 position) internal pure returns (bytes calldata data) {
        assembly ("memory-safe") {
            data.offset := position
            data.length := 0
        }
    }

    function _spendErc20(Use memory use, address token, bytes4 selector, bytes calldata data) internal {
        bytes32 slot = ScopeLib.slot(use.key, ScopeLib.tag(PermissionType.Erc20TokenTransfer, 0, token));
        uint256 scope = ScopeLib.load(slot);
        if (scope == 0) {
            _authenticate(use);
            revert Erc20NotAllowed(use.key.sessionId, token, selector);
        }
        _found(use, scope);
        uint256 amount;
        bool malformed;
        assembly ("memory-safe") {
            // transferFrom(from, to, amount) and Permit2's approve(token, spender, amount, expiration)
            // have the amount third; the others have it second.
            let third := or(eq(selector, ERC20_TRANSFER_FROM), eq(selector, PERMIT2_APPROVE))
            let amountOffset := add(0x24, shl(5, third))
            malformed := lt(data.length, add(amountOffset, 0x20))
            amount := calldataload(add(data.offset, amountOffset))
        }
        if (malformed) revert MalformedErc20Call(use.key.sessionId, token, selector);
        if (scope & ScopeLib.FLAG_RECURRING != 0) _checkRecurringSpend(use, token, selector);
        uint256 left = ScopeLib.remaining(scope);
        if (amount > left) revert Erc20AllowanceExceeded(use.key.sessionId, token, amount, left);
        // In the balance-checked form a `transfer` is charged by the balance it lowers, not twice.
        // Approvals and `transferFrom` stay charged here: their effect is not a balance change. A
        // recurring limit holds its amount per period, never spent here: the execution phase charges
        // what left the account to the period (approvals were refused above).
        bool chargedByBalance = use.checked && (selector == ERC20_TRANSFER || scope & ScopeLib.FLAG_RECURRING != 0);
        if (amount != 0 && !chargedByBalance) {
            ScopeLib.store(slot, ScopeLib.spend(scope, amount));
            emit SessionSpent(use.key.sessionId, token, amount);
        }
    }

    function _spendNative(Use memory use, address target, uint256 value) internal {
        bytes32 slot = ScopeLib.slot(use.key, ScopeLib.tag(PermissionType.NativeTokenTransfer, 0, address(0)));
        uint256 scope = ScopeLib.load(slot);
        if (scope == 0) {
            _authenticate(use);
            revert NativeTransferNotAllowed(use.key.sessionId, target, value);
        }
        _found(use, scope);
        if (scope & ScopeLib.FLAG_RECURRING != 0) _checkRecurringSpend(use, target, 0);
        uint256 left = ScopeLib.remaining(scope);
        if (value > left) revert NativeAllowanceExceeded(use.key.sessionId, target, value, left);
        // In the balance-checked form, value is charged by the balance it lowers.
        if (use.checked) return;
        ScopeLib.store(slot, ScopeLib.spend(scope, value));
        emit SessionSpent(use.key.sessionId, address(0), value);
    }

    /// @dev A spend under a recurring allowance is charged by the execution phase, the only one that
    ///      may read the clock: it needs the balance-checked form, and approvals, which promise future
    ///      pulls outside any period, are refused.
    function _checkRecurringSpend(Use memory use, address target, bytes4 selector) internal pure {
        if (selector == ERC20_APPROVE || selector == ERC20_INCREASE_ALLOWANCE || selector == PERMIT2_APPROVE) {
            revert Erc20NotAllowed(use.key.sessionId, target, selector);
        }
        if (!use.checked) revert OutflowCheckRequired(use.key.sessionId, target, selector);
    }

    /// @dev Who pays for the operation. Root keeps its meaning: any payer, no bound. Any other session
    ///      names its paymasters in its grant (none means none), and pays for itself only within its
    ///      `GasLimit`: otherwise a key that bundles its own operation could take the account's ETH
    ///      as fees. A session always holds a scope here, so no `_authenticate` is needed first.
    function _checkPayer(Use memory use, PackedUserOperation calldata userOp) internal {
        if (use.root) return;
        bytes calldata paymasterAndData = userOp.paymasterAndData;
        bool selfPaidAllowed = use.scope & ScopeLib.FLAG_GAS_LIMIT != 0;
        if (paymasterAndData.length == 0) {
            if (!selfPaidAllowed) revert SelfPaidGasNotAllowed(use.key.sessionId, _maxCost(userOp));
            _spendGas(use, userOp);
            return;
        }
        address paymaster;
        assembly ("memory-safe") {
            // Shorter than an address names no one (the EntryPoint rejects it anyway, AA93).
            paymaster := mul(gt(paymasterAndData.length, 19), shr(96, calldataload(paymasterAndData.offset)))
        }
        if (!_has(use, ScopeLib.tag(PermissionType.Paymaster, 0, paymaster))) {
            revert PaymasterNotAllowed(use.key.sessionId, paymaster, selfPaidAllowed);
        }
    }

    /// @dev The prefund the EntryPoint may take from the account without a paymaster:
    ///      `(verificationGasLimit + callGasLimit + preVerificationGas) * maxFeePerGas`.
    function _maxCost(PackedUserOperation calldata userOp) internal pure returns (uint256) {
        uint256 gasLimits = uint256(userOp.accountGasLimits);
        uint256 maxFeePerGas = uint256(userOp.gasFees) & type(uint128).max;
        return ((gasLimits >> 128) + (gasLimits & type(uint128).max) + userOp.preVerificationGas) * maxFeePerGas;
    }

    /// @dev Spends the UserOperation's maximum cost from the session's `GasLimit`.
    function _spendGas(Use memory use, PackedUserOperation calldata userOp) internal {
        uint256 maxCost = _maxCost(userOp);
        bytes32 slot = ScopeLib.slot(use.key, ScopeLib.tag(PermissionType.GasLimit, 0, address(0)));
        uint256 scope = ScopeLib.load(slot);
        uint256 left = ScopeLib.remaining(scope);
        if (maxCost > left) revert GasLimitExceeded(use.key.sessionId, maxCost, left);
        // No event: the charge is the operation's own maximum cost, computable from the
        // UserOperation the EntryPoint's `UserOperationEvent` names; an event would cost every
        // self-paid operation about 1,500 gas to repeat it (`getRemaining` reads what is left).
        ScopeLib.store(slot, ScopeLib.spend(scope, maxCost));
    }

    function _has(Use memory use, uint256 ruleTag) internal view returns (bool) {
        uint256 scope = ScopeLib.load(ScopeLib.slot(use.key, ruleTag));
        if (scope == 0) return false;
        _found(use, scope);
        return true;
    }

    function _found(Use memory use, uint256 scope) internal pure {
        if (!use.authenticated) {
            use.authenticated = true;
            use.scope = scope;
        }
    }

    /// @dev Returns only if the signer is the key of a live session, so that the caller may revert
    ///      with the rule it found broken. Otherwise the signature is what is wrong: when the session
    ///      is live (enabled in the current epoch), every check runs again as its key, so that a
    ///      violation still reverts with its rule and a placeholder signature costs what a real one
    ///      does; then validation ends with `SIG_VALIDATION_FAILED`. A wrong signer finds no scope,
    ///      so nothing has been written when this happens.
    function _authenticate(Use memory use) internal {
        if (use.authenticated) return;
        uint256 record = _records[use.key.sessionId][use.key.account];
        uint256 signerRecord = _record(use.key.keyEpoch, SessionStatus.Enabled);
        if (record == signerRecord) return;
        // Status and epoch: the bits above the key.
        if (record >> 160 == signerRecord >> 160) {
            use.key.keyEpoch = record & _KEY_EPOCH_MASK;
            _checkOperation(use, _userOp());
        }
        assembly ("memory-safe") {
            mstore(0x00, SIG_VALIDATION_FAILED)
            return(0x00, 0x20)
        }
    }

    /// @dev The transient slot where validation leaves a balance-checked operation's session for its
    ///      execution phase: `keccak256(account ‖ userOpHash)`, associated with the account (ERC-7562),
    ///      one per operation, so several operations of a bundle never share one.
    function _outflowSlot(address account, bytes32 userOpHash) internal pure returns (bytes32 slot) {
        assembly ("memory-safe") {
            mstore(0x00, account)
            mstore(0x20, userOpHash)
            slot := keccak256(0x00, 0x40)
        }
    }

    /// @dev The `userOpHash` `validateUserOp` was called with (its second argument).
    function _userOpHashArgument() internal pure returns (bytes32 userOpHash) {
        assembly ("memory-safe") {
            userOpHash := calldataload(0x24)
        }
    }

    /// @dev The UserOperation `validateUserOp` was called with (its first argument).
    function _userOp() internal pure returns (PackedUserOperation calldata userOp) {
        assembly ("memory-safe") {
            userOp := add(0x04, calldataload(0x04))
        }
    }

    /// @dev The first argument of the call `data` as an address, or zero when it is too short.
    function _addressArgument(bytes calldata data) internal pure returns (address result) {
        assembly ("memory-safe") {
            result := mul(gt(data.length, 0x23), shr(96, shl(96, calldataload(add(data.offset, 4)))))
        }
    }

    /// @dev The first four bytes of `data`, or zero when it is shorter.
    function _selectorOf(bytes calldata data) internal pure returns (bytes4 selector) {
        assembly ("memory-safe") {
            selector := mul(gt(data.length, 3), and(calldataload(data.offset), shl(224, 0xffffffff)))
        }
    }

    function _byteAt(bytes calldata data, uint256 index) internal pure returns (uint256 result) {
        assembly ("memory-safe") {
            result := byte(0, calldataload(add(data.offset, index)))
        }
    }

    function _isErc20Spend(bytes4 selector) internal pure returns (bool) {
        return selector == ERC20_TRANSFER || selector == ERC20_APPROVE || selector == ERC20_TRANSFER_FROM
            || selector == ERC20_INCREASE_ALLOWANCE;
    }

    function _isForbidden(bytes4 selector) internal pure returns (bool) {
        return selector == ACCOUNT_EXECUTE || selector == ACCOUNT_EXECUTE_FROM_EXECUTOR
            || selector == ACCOUNT_INSTALL_MODULE || selector == ACCOUNT_UNINSTALL_MODULE
            || selector == ACCOUNT_VALIDATE_USER_OP || selector == ACCOUNT_EXECUTE_USER_OP;
    }

    // ---------------------------------------------------------------- enable internals

    /// @dev Enables `grant` as the session `key` (account, session id, and the grant's key under the
    ///      account's current epoch).
    function _enable(ScopeLib.Key memory key, SessionGrant calldata grant) internal {
        address account = key.account;
        bytes32 sessionId = key.sessionId;
        if (_records[sessionId][account] != 0) {
            (SessionStatus status,,) = _session(account, sessionId);
            revert SessionNotUnused(sessionId, status);
        }
        if (grant.account != account) revert GrantAccountMismatch(sessionId, grant.account, account);
        if (grant.sessionKey == address(0)) revert InvalidSessionKey(sessionId);
        uint48 validAfter = grant.validAfter;
        uint48 validUntil = grant.validUntil;
        if (validUntil == 0 || validAfter >= validUntil) revert InvalidValidity(sessionId, validAfter, validUntil);
        Permission[] calldata permissions = grant.permissions;
        if (permissions.length == 0) revert NoPermissions(sessionId);
        uint256 flags;
        uint256 tokens;
        for (uint256 i; i < permissions.length; ++i) {
            (PermissionType kind,,,,) = _permissionAt(permissions, i);
            if (kind == PermissionType.GasLimit) flags |= ScopeLib.FLAG_GAS_LIMIT;
            if (kind == PermissionType.NativeTokenTransfer) flags |= ScopeLib.FLAG_NATIVE_LIMIT;
            if (kind == PermissionType.TypedDataSigning) flags |= ScopeLib.FLAG_SIGNS_TYPED_DATA;
            if (kind == PermissionType.Erc20TokenTransfer && ++tokens > ScopeLib.MAX_TOKEN_COUNT) {
                revert InvalidPermission(sessionId, i);
            }
        }
        flags |= tokens << ScopeLib.TOKEN_COUNT_SHIFT;
        _applyPermissions(key, permissions, ScopeLib.pack(validAfter, validUntil, flags));
        _records[sessionId][account] = _record(key.keyEpoch, SessionStatus.Enabled);
        emit SessionEnabled(account, sessionId, grant.sessionKey, validAfter, validUntil);
    }

    /// @dev Writes every scope of `permissions` with `base` (window and flags, plus each limit's
    ///      amount), or clears them all when `base` is zero. Checks each permission's shape either
    ///      way; a grant that was enabled passes again.
    function _applyPermissions(ScopeLib.Key memory key, Permission[] calldata permissions, uint256 base) internal {
        for (uint256 i; i < permissions.length; ++i) {
            (PermissionType kind, address target, uint256 amount, bytes4[] calldata functions, uint256 rulesLength) =
                _permissionAt(permissions, i);
            if (kind == PermissionType.Root && permissions.length != 1) revert RootNotExclusive(key.sessionId);
            if (!_isWellFormed(kind, target, amount, functions.length, key.account)) {
                revert InvalidPermission(key.sessionId, i);
            }
            if (functions.length != 0) {
                _applyFunctions(key, permissions, i, base);
            } else if (rulesLength == 0) {
                _applyScope(key, kind, target, amount, i, base);
            } else {
                _applyRecurringLimit(key, permissions, i, base);
            }
        }
    }

    /// @dev The bindings of permission `index`'s ruled scopes (`RuleLib.bindings`), none when it has no
    ///      rules; writes (or with `base` zero clears) its use counter when it has a usage limit.
    function _applyRules(
        ScopeLib.Key memory key,
        Permission[] calldata permissions,
        uint256 index,
        uint256 rulesLength,
        uint256 base
    ) internal returns (bytes32[] memory result) {
        if (rulesLength == 0) return result;
        RuleLib.Refusal refusal;
        RuleLib.Compiled memory compiled;
        bytes32 compactHash;
        (result, compiled, compactHash, refusal) = RuleLib.bindings(_rulesAt(permissions, index), index);
        if (refusal == RuleLib.Refusal.Unsupported) revert UnsupportedRules(key.sessionId, index);
        if (refusal == RuleLib.Refusal.Invalid) revert InvalidRules(key.sessionId, index);
        if (compiled.uses != 0) {
            ScopeLib.store(ScopeLib.slot(key, _counterTag(compactHash)), base == 0 ? 0 : compiled.uses);
        }
        if (compiled.rateLimit != 0) {
            ScopeLib.store(ScopeLib.slot(key, _rateTag(compactHash)), base == 0 ? 0 : compiled.rateState);
        }
    }

    /// @dev Permission `i`'s fields, each read from calldata once, and the length of its rule data.
    ///      Reverts, as Solidity's calldata accessors would, when the permission, its function list or
    ///      its rules reach outside the calldata
    ///      or its type is not a `PermissionType`. The target is cleaned to 160 bits, as `GrantLib.hash`
    ///      hashes it, so the rule enabled is the rule signed. Solidity's accessors cost about 3,000
    ///      gas more per enabled grant.
    function _permissionAt(Permission[] calldata permissions, uint256 i)
        internal
        pure
        returns (PermissionType kind, address target, uint256 amount, bytes4[] calldata functions, uint256 rulesLength)
    {
        bool bad;
        assembly ("memory-safe") {
            let headOffset := calldataload(add(permissions.offset, shl(5, i)))
            let p := add(permissions.offset, and(headOffset, 0xffffffff))
            let functionsOffset := calldataload(add(p, 0x60))
            let list := add(p, and(functionsOffset, 0xffffffff))
            let count := calldataload(list)
            let rulesOffset := calldataload(add(p, 0x80))
            let rules := add(p, and(rulesOffset, 0xffffffff))
            rulesLength := calldataload(rules)
            kind := calldataload(p)
            // Offsets and lengths are capped at 2**32 so the sums below cannot overflow.
            bad := or(or(gt(headOffset, 0xffffffff), gt(functionsOffset, 0xffffffff)), gt(count, 0xffffffff))
            bad := or(bad, or(gt(rulesOffset, 0xffffffff), gt(rulesLength, 0xffffffff)))
            bad := or(bad, or(gt(kind, 10), gt(add(p, 0xa0), calldatasize())))
            bad := or(bad, gt(add(add(list, 0x20), shl(5, and(count, 0xffffffff))), calldatasize()))
            bad := or(bad, gt(add(add(rules, 0x20), and(rulesLength, 0xffffffff)), calldatasize()))
            target := shr(96, shl(96, calldataload(add(p, 0x20))))
            amount := calldataload(add(p, 0x40))
            functions.offset := add(list, 0x20)
            functions.length := count
        }
        if (bad || i >= permissions.length) revert();
    }

    /// @dev Permission `i`'s rule data; `_permissionAt(permissions, i)` checked its bounds.
    function _rulesAt(Permission[] calldata permissions, uint256 i) internal pure returns (bytes calldata rules) {
        assembly ("memory-safe") {
            let p := add(permissions.offset, and(calldataload(add(permissions.offset, shl(5, i))), 0xffffffff))
            let at := add(p, and(calldataload(add(p, 0x80)), 0xffffffff))
            rules.offset := add(at, 0x20)
            rules.length := calldataload(at)
        }
    }

    /// @dev Whether a permission sets exactly the fields its type uses, to allowed values.
    function _isWellFormed(PermissionType kind, address target, uint256 amount, uint256 functionCount, address account)
        internal
        view
        returns (bool)
    {
        bool noTarget = target == address(0);
        bool validTarget = !noTarget && target != account && target != address(this);
        bool noFunctions = functionCount == 0;
        if (kind == PermissionType.Root) return noTarget && amount == 0 && noFunctions;
        if (kind == PermissionType.NativeTokenTransfer || kind == PermissionType.GasLimit) {
            return noTarget && amount <= MAX_ALLOWANCE && noFunctions;
        }
        if (kind == PermissionType.Erc20TokenTransfer) return validTarget && amount <= MAX_ALLOWANCE && noFunctions;
        if (kind == PermissionType.PersonalSign) return noTarget && amount == 0 && noFunctions;
        if (
            kind == PermissionType.ContractAccess || kind == PermissionType.Paymaster
                || kind == PermissionType.TypedDataSigning
        ) {
            return validTarget && amount == 0 && noFunctions;
        }
        if (kind == PermissionType.FunctionsOnContract) return validTarget && amount == 0 && !noFunctions;
        return noTarget && amount == 0 && !noFunctions;
    }

    /// @dev A limit with rules: only native and token limits take one, a recurring allowance. Its scope
    ///      carries `FLAG_RECURRING` and its state word (`PeriodLib`) the period's spending.
    function _applyRecurringLimit(
        ScopeLib.Key memory key,
        Permission[] calldata permissions,
        uint256 index,
        uint256 base
    ) internal {
        (PermissionType kind, address target, uint256 amount,,) = _permissionAt(permissions, index);
        if (kind != PermissionType.NativeTokenTransfer && kind != PermissionType.Erc20TokenTransfer) {
            revert UnsupportedRules(key.sessionId, index);
        }
        (uint256 period, uint256 start, RuleLib.Refusal refusal) = PeriodLib.decode(_rulesAt(permissions, index));
        if (refusal == RuleLib.Refusal.Unsupported) revert UnsupportedRules(key.sessionId, index);
        if (refusal == RuleLib.Refusal.Invalid) revert InvalidRules(key.sessionId, index);
        _applyScope(key, kind, target, amount, index, base == 0 ? 0 : base | ScopeLib.FLAG_RECURRING);
        uint256 state = base == 0 ? 0 : PeriodLib.initialState(period, start);
        ScopeLib.store(ScopeLib.slot(key, ScopeLib.tag(kind, ScopeLib.RECURRING_STATE, target)), state);
    }

    /// @dev Root, a limit, a contract or a paymaster: one scope. Limits carry their amount and may not
    ///      repeat.
    function _applyScope(
        ScopeLib.Key memory key,
        PermissionType kind,
        address target,
        uint256 amount,
        uint256 index,
        uint256 base
    ) internal {
        bool isLimit = kind == PermissionType.NativeTokenTransfer || kind == PermissionType.GasLimit
            || kind == PermissionType.Erc20TokenTransfer;
        bytes32 slot = ScopeLib.slot(key, ScopeLib.tag(kind, 0, target));
        if (base == 0) {
            ScopeLib.store(slot, 0);
        } else if (isLimit) {
            if (ScopeLib.load(slot) != 0) revert DuplicatePermission(key.sessionId, index);
            ScopeLib.store(slot, base | amount);
        } else {
            ScopeLib.store(slot, base);
        }
    }

    /// @dev Function permissions of all three types become one scope per selector; with rules
    ///      (`rulesHash`), one per selector and combination of set values, at the ruled tags. ERC-20
    ///      spend selectors on other contracts are skipped: only `Erc20TokenTransfer` governs them.
    function _applyFunctions(ScopeLib.Key memory key, Permission[] calldata permissions, uint256 index, uint256 base)
        internal
    {
        (PermissionType kind, address target,, bytes4[] calldata functions, uint256 rulesLength) =
            _permissionAt(permissions, index);
        bytes32[] memory bindings = _applyRules(key, permissions, index, rulesLength, base);
        bool onAccount = kind == PermissionType.AccountFunctions;
        if (onAccount) {
            if (rulesLength != 0) revert UnsupportedRules(key.sessionId, index);
            target = key.account;
        }
        for (uint256 j; j < functions.length; ++j) {
            bytes4 selector;
            assembly ("memory-safe") {
                // In bounds: `_permissionAt` checked the list against the calldata.
                selector := and(calldataload(add(functions.offset, shl(5, j))), shl(224, 0xffffffff))
            }
            if (onAccount ? _isForbidden(selector) : _isErc20Spend(selector)) {
                if (onAccount) revert InvalidPermission(key.sessionId, index);
                continue;
            }
            _applyFunctionScope(key, ScopeLib.tag(PermissionType.FunctionsOnContract, selector, target), bindings, base);
        }
    }

    /// @dev One function's scope: at its plain tag, or with rules at one ruled tag per binding.
    function _applyFunctionScope(ScopeLib.Key memory key, uint256 tag, bytes32[] memory bindings, uint256 base)
        internal
    {
        if (bindings.length == 0) {
            ScopeLib.store(ScopeLib.slot(key, tag), base);
            return;
        }
        for (uint256 n; n < bindings.length; ++n) {
            ScopeLib.store(ScopeLib.slot(key, _ruledTag(tag, bindings[n])), base);
        }
    }

    /// @dev Bumps the epoch (every session enabled before is dead) and sets the installed flag to
    ///      `installed` (0 or `_INSTALLED`).
    function _revokeAll(address account, uint256 installed) internal {
        uint32 epoch = uint32(_epochOf(account)) + 1;
        _accounts[account] = uint256(epoch) << 1 | installed;
        emit AllSessionsRevoked(account, epoch);
    }

    // ---------------------------------------------------------------- helpers

    function _sessionId(SessionGrant calldata grant) internal view returns (bytes32) {
        return _hashTypedData(GrantLib.hash(grant));
    }

    /// @dev Whether `keySignature` is the signature of `hash` by the key of `keyEpoch`: a secp256k1
    ///      key's is recovered here, the other kinds' are `SIGNERS`'s to check.
    function _isKeySignature(uint256 signerKind, bytes32 hash, bytes calldata keySignature, uint256 keyEpoch)
        internal
        view
        returns (bool)
    {
        if (signerKind == SIGNER_SECP256K1) {
            return !_isOtherSigner(SignatureLib.tryRecoverCalldata(hash, keySignature), keyEpoch);
        }
        (address signer, bool signed) = SIGNERS.check(signerKind, hash, keySignature);
        return signed && !_isOtherSigner(signer, keyEpoch);
    }

    function _isOwnerSignature(address account, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        return ECDSA.tryRecoverCalldata(digest, signature) == account
            || SignatureCheckerLib.isValidERC1271SignatureNowCalldata(account, digest, signature);
    }

    /// @dev Whether `signer` is not the key of `keyEpoch` (or is no key at all), without branches, so
    ///      that a failing signature costs what a matching one does.
    function _isOtherSigner(address signer, uint256 keyEpoch) internal pure returns (bool result) {
        assembly ("memory-safe") {
            result := or(iszero(signer), iszero(eq(signer, shr(96, shl(96, keyEpoch)))))
        }
    }

    /// @dev `SIG_VALIDATION_FAILED` when `failed`, else zero.
    function _flag(bool failed) internal pure returns (uint256 result) {
        assembly ("memory-safe") {
            result := failed
        }
    }

    /// @dev `ScopeLib.keyEpoch(grant.sessionKey, epoch)`, with the key read as `GrantLib.hash` reads it
    ///      (cleaned to 160 bits; Solidity's accessor costs about 180 gas more on the lazy path).
    function _grantKeyEpoch(SessionGrant calldata grant, uint256 epoch) internal pure returns (uint256 result) {
        assembly ("memory-safe") {
            result := or(shl(160, and(epoch, 0xffffffff)), shr(96, shl(96, calldataload(add(grant, 0x20)))))
        }
    }

    function _epochOf(address account) internal view returns (uint256) {
        return _accounts[account] >> 1;
    }

    /// @dev A session's record, with an `Enabled` session of an earlier epoch reported as `Revoked`.
    function _session(address account, bytes32 sessionId)
        internal
        view
        returns (SessionStatus status, address sessionKey, uint256 epoch)
    {
        uint256 record = _records[sessionId][account];
        assembly ("memory-safe") {
            sessionKey := and(record, 0xffffffffffffffffffffffffffffffffffffffff)
            epoch := and(shr(160, record), 0xffffffff)
            status := shr(_RECORD_STATUS_SHIFT, record)
        }
        if (status == SessionStatus.Enabled && epoch != _epochOf(account)) status = SessionStatus.Revoked;
    }

    function _record(uint256 keyEpoch, SessionStatus status) internal pure returns (uint256) {
        return (uint256(status) << _RECORD_STATUS_SHIFT) | keyEpoch;
    }

    function _domainNameAndVersion() internal pure override returns (string memory, string memory) {
        return ("LeashSessionKeyValidator", GRANT_DOMAIN_VERSION);
    }
}
