// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ECDSA} from "solady/utils/ECDSA.sol";
import {EIP712} from "solady/utils/EIP712.sol";
import {SignatureCheckerLib} from "solady/utils/SignatureCheckerLib.sol";
import {IERC7579Validator, MODULE_TYPE_VALIDATOR} from "../interfaces/IERC7579Module.sol";
import {ISessionKeyValidator} from "../interfaces/ISessionKeyValidator.sol";
import {ExecutionLib} from "../libraries/ExecutionLib.sol";
import {GrantLib} from "../libraries/GrantLib.sol";
import {ScopeLib} from "../libraries/ScopeLib.sol";
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
    Permission,
    PermissionType,
    SessionGrant,
    SessionStatus,
    SIG_MODE_ENABLE,
    SIG_MODE_USE_ROOT
} from "../types/SessionTypes.sol";

/// @title SessionKeyValidator
/// @notice ERC-7579 validator for scoped session keys: an account's owner grants a key the eight
///         Wallet API permission types for a time window; the key then signs UserOperations alone.
/// @dev Assumptions:
/// - The calling account is the session's account (`msg.sender`); the validator never trusts
///   `userOp.sender`. Grants name their account, so a grant enables nowhere else.
/// - The owner's signature over a grant is one that recovers to the account (an EIP-7702 EOA) or that
///   the account accepts through ERC-1271.
/// - ERC-7562: validation reads no clock (windows go out in `validationData`) and touches only
///   storage associated with the account: every mapping has the account as its innermost key, so
///   each slot is `keccak256(account ‖ x)`.
/// - Hot path: one epoch word, then one scope word per rule a call needs (see `ScopeLib`). A scope
///   key mixes in the recovered signer, so a wrong signature finds nothing and fails with
///   `SIG_VALIDATION_FAILED`; only a signature from the key of a live session can trigger a revert.
/// - Limits are accounted during validation: a UserOperation that validates has spent its amounts,
///   even if its execution later reverts. This is conservative and keeps accounting atomic with the
///   checks.
/// - Execution is only `execute` with single or batch call types: no delegatecall, no try mode.
contract SessionKeyValidator is IERC7579Validator, ISessionKeyValidator, EIP712 {
    uint256 internal constant SIG_VALIDATION_FAILED = 1;

    /// @dev Session record word: `status (bits 192..199) | epoch (160..191) | sessionKey (0..159)`.
    ///      Validation reads it only to tell a bad signature from a scope violation.
    uint256 private constant _RECORD_EPOCH_SHIFT = 160;
    uint256 private constant _RECORD_STATUS_SHIFT = 192;

    mapping(address account => uint32) internal _epochs;
    mapping(bytes32 sessionId => mapping(address account => uint256)) internal _records;
    mapping(bytes32 scopeKey => mapping(address account => uint256)) internal _scopes;

    /// @dev What validation knows about the session it is checking.
    struct Use {
        address account;
        bytes32 sessionId;
        address signer;
        uint32 epoch;
        bytes32 seed;
        bool root;
        // Set once a scope of `seed` was found: the signer is then the key of a live session.
        bool authenticated;
        // The first scope found; every scope of a session carries the same window and flags.
        uint256 scope;
    }

    // ---------------------------------------------------------------- ERC-7579

    /// @inheritdoc IERC7579Validator
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        payable
        returns (uint256)
    {
        bytes calldata signature = userOp.signature;
        if (signature.length == 0) return SIG_VALIDATION_FAILED;
        Use memory use;
        use.account = msg.sender;
        use.epoch = _epochs[msg.sender];
        uint256 mode = _byteAt(signature, 0);
        if (mode == SIG_MODE_ENABLE) {
            (bool ok, SessionGrant calldata grant, bytes calldata ownerSignature, bytes calldata keySignature) =
                GrantLib.decodeEnable(signature[1:]);
            if (!ok) return SIG_VALIDATION_FAILED;
            use.sessionId = _sessionId(grant);
            use.signer = ECDSA.tryRecoverCalldata(userOpHash, keySignature);
            if (
                use.signer == address(0) || use.signer != grant.sessionKey
                    || !_isOwnerSignature(msg.sender, use.sessionId, ownerSignature)
            ) {
                return SIG_VALIDATION_FAILED;
            }
            use.root = grant.permissions.length != 0 && grant.permissions[0].permissionType == PermissionType.Root;
            // A grant already enabled is simply used, so a client may keep sending the enable form.
            if (_records[use.sessionId][msg.sender] == 0) _enable(msg.sender, use.sessionId, grant, use.epoch);
        } else if (mode <= SIG_MODE_USE_ROOT && signature.length == 98) {
            // Layout: mode (1) ‖ sessionId (32) ‖ r ‖ s ‖ v (65); the length was checked above.
            bytes32 sessionId;
            bytes calldata keySignature;
            assembly ("memory-safe") {
                sessionId := calldataload(add(signature.offset, 1))
                keySignature.offset := add(signature.offset, 33)
                keySignature.length := 65
            }
            use.sessionId = sessionId;
            use.signer = ECDSA.tryRecoverCalldata(userOpHash, keySignature);
            if (use.signer == address(0)) return SIG_VALIDATION_FAILED;
            use.root = mode == SIG_MODE_USE_ROOT;
        } else {
            return SIG_VALIDATION_FAILED;
        }
        use.seed = ScopeLib.seed(use.sessionId, use.signer, use.epoch);

        _checkCalls(use, userOp.callData);
        if (use.scope & ScopeLib.FLAG_GAS_LIMIT != 0 && userOp.paymasterAndData.length == 0) _spendGas(use, userOp);
        return ScopeLib.validationData(use.scope);
    }

    /// @notice Sessions sign no ERC-1271 messages: a session's authority is its UserOperations only.
    function isValidSignatureWithSender(address, bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }

    /// @notice Nothing to set up: sessions are enabled one by one.
    function onInstall(bytes calldata) external payable {}

    /// @notice Uninstalling revokes every session, so a later reinstall starts from none.
    function onUninstall(bytes calldata) external payable {
        _revokeAll(msg.sender);
    }

    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    // ---------------------------------------------------------------- enable and revoke

    /// @inheritdoc ISessionKeyValidator
    function enableSession(SessionGrant calldata grant) external returns (bytes32 sessionId) {
        sessionId = _sessionId(grant);
        _enable(msg.sender, sessionId, grant, _epochs[msg.sender]);
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeSession(SessionGrant calldata grant) external {
        bytes32 sessionId = _sessionId(grant);
        if (msg.sender != grant.account && msg.sender != grant.sessionKey) {
            revert NotSessionAuthority(sessionId, msg.sender);
        }
        address account = grant.account;
        uint256 record = _records[sessionId][account];
        uint32 epoch = _epochs[account];
        if (record != 0) {
            SessionStatus status;
            (, epoch, status) = _unpackRecord(record);
            if (status == SessionStatus.Revoked) revert SessionAlreadyRevoked(sessionId);
            // Clearing each scope is what stops validation: it never reads this record on success.
            _applyPermissions(account, sessionId, ScopeLib.seed(sessionId, grant.sessionKey, epoch), grant, 0);
        }
        _records[sessionId][account] = _packRecord(grant.sessionKey, epoch, SessionStatus.Revoked);
        emit SessionRevoked(account, sessionId, msg.sender);
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeAllSessions() external {
        _revokeAll(msg.sender);
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
        returns (uint256)
    {
        (SessionStatus status, address sessionKey, uint32 epoch) = _session(account, sessionId);
        if (status != SessionStatus.Enabled) return 0;
        if (permissionType != PermissionType.Erc20TokenTransfer) token = address(0);
        bytes32 seed = ScopeLib.seed(sessionId, sessionKey, epoch);
        return ScopeLib.remaining(_scopes[ScopeLib.key(seed, permissionType, 0, token)][account]);
    }

    /// @inheritdoc ISessionKeyValidator
    function epochOf(address account) external view returns (uint256) {
        return _epochs[account];
    }

    // ---------------------------------------------------------------- validation internals

    function _checkCalls(Use memory use, bytes calldata callData) internal {
        bytes4 selector = _selectorOf(callData);
        if (selector != ACCOUNT_EXECUTE) {
            _authenticate(use);
            revert NotAnExecuteCall(use.sessionId, selector);
        }
        (bytes32 mode, bytes calldata executionCalldata) = ExecutionLib.decodeExecuteCall(callData);
        (bytes1 callType, bytes1 execType) = ExecutionLib.decodeMode(mode);
        if (use.root && !_has(use, ScopeLib.key(use.seed, PermissionType.Root, 0, address(0)))) {
            _authenticate(use);
            revert NotRootSession(use.sessionId);
        }
        if (execType == ExecutionLib.EXECTYPE_DEFAULT && callType == ExecutionLib.CALLTYPE_SINGLE) {
            (address target, uint256 value, bytes calldata data) = ExecutionLib.decodeSingle(executionCalldata);
            _checkCall(use, target, value, data);
        } else if (execType == ExecutionLib.EXECTYPE_DEFAULT && callType == ExecutionLib.CALLTYPE_BATCH) {
            Execution[] calldata executions = ExecutionLib.decodeBatch(executionCalldata);
            for (uint256 i; i < executions.length; ++i) {
                _checkCall(use, executions[i].target, executions[i].value, executions[i].callData);
            }
        } else {
            _authenticate(use);
            revert UnsupportedExecutionMode(use.sessionId, mode);
        }
        // An empty batch found no scope, so nothing has vouched for the signer yet.
        if (!use.authenticated) {
            _authenticate(use);
            revert CallNotAllowed(use.sessionId, address(0), bytes4(0));
        }
    }

    function _checkCall(Use memory use, address target, uint256 value, bytes calldata data) internal {
        bool hasSelector = data.length >= 4;
        bytes4 selector = _selectorOf(data);
        if (target == address(this) || (target == use.account && (use.root || !hasSelector || _isForbidden(selector))))
        {
            _authenticate(use);
            revert ForbiddenCall(use.sessionId, target, selector);
        }
        if (use.root) return;
        if (target == use.account) {
            if (!_has(use, ScopeLib.key(use.seed, PermissionType.FunctionsOnContract, selector, target))) {
                _authenticate(use);
                revert CallNotAllowed(use.sessionId, target, selector);
            }
        } else if (hasSelector && _isErc20Spend(selector)) {
            _spendErc20(use, target, selector, data);
        } else if (data.length != 0 || value == 0) {
            // A plain value transfer needs no function permission; anything else needs one.
            if (
                !(hasSelector
                        && _has(use, ScopeLib.key(use.seed, PermissionType.FunctionsOnContract, selector, target)))
                    && !_has(use, ScopeLib.key(use.seed, PermissionType.ContractAccess, 0, target))
                    && !(hasSelector
                        && _has(use, ScopeLib.key(use.seed, PermissionType.FunctionsOnContract, selector, address(0))))
            ) {
                _authenticate(use);
                revert CallNotAllowed(use.sessionId, target, selector);
            }
        }
        if (value != 0) _spendNative(use, target, value);
    }

    function _spendErc20(Use memory use, address token, bytes4 selector, bytes calldata data) internal {
        bytes32 key = ScopeLib.key(use.seed, PermissionType.Erc20TokenTransfer, 0, token);
        uint256 scope = _scopes[key][use.account];
        if (scope == 0) {
            _authenticate(use);
            revert Erc20NotAllowed(use.sessionId, token, selector);
        }
        _found(use, scope);
        // transferFrom(from, to, amount) has the amount third; the others have it second.
        uint256 amountOffset = selector == ERC20_TRANSFER_FROM ? 0x44 : 0x24;
        if (data.length < amountOffset + 0x20) revert MalformedErc20Call(use.sessionId, token, selector);
        uint256 amount;
        assembly ("memory-safe") {
            amount := calldataload(add(data.offset, amountOffset))
        }
        uint256 left = ScopeLib.remaining(scope);
        if (amount > left) revert Erc20AllowanceExceeded(use.sessionId, token, amount, left);
        if (amount != 0) {
            _scopes[key][use.account] = ScopeLib.spend(scope, amount);
            emit SessionSpent(use.sessionId, token, amount);
        }
    }

    function _spendNative(Use memory use, address target, uint256 value) internal {
        bytes32 key = ScopeLib.key(use.seed, PermissionType.NativeTokenTransfer, 0, address(0));
        uint256 scope = _scopes[key][use.account];
        if (scope == 0) {
            _authenticate(use);
            revert NativeTransferNotAllowed(use.sessionId, target, value);
        }
        _found(use, scope);
        uint256 left = ScopeLib.remaining(scope);
        if (value > left) revert NativeAllowanceExceeded(use.sessionId, target, value, left);
        _scopes[key][use.account] = ScopeLib.spend(scope, value);
        emit SessionSpent(use.sessionId, address(0), value);
    }

    /// @dev Spends the UserOperation's maximum cost, the prefund the EntryPoint may take without a
    ///      paymaster: `(verificationGasLimit + callGasLimit + preVerificationGas) * maxFeePerGas`.
    function _spendGas(Use memory use, PackedUserOperation calldata userOp) internal {
        uint256 gasLimits = uint256(userOp.accountGasLimits);
        uint256 maxFeePerGas = uint256(userOp.gasFees) & type(uint128).max;
        uint256 maxCost =
            ((gasLimits >> 128) + (gasLimits & type(uint128).max) + userOp.preVerificationGas) * maxFeePerGas;
        bytes32 key = ScopeLib.key(use.seed, PermissionType.GasLimit, 0, address(0));
        uint256 scope = _scopes[key][use.account];
        uint256 left = ScopeLib.remaining(scope);
        if (maxCost > left) revert GasLimitExceeded(use.sessionId, maxCost, left);
        _scopes[key][use.account] = ScopeLib.spend(scope, maxCost);
        emit SessionGasSpent(use.sessionId, maxCost);
    }

    function _has(Use memory use, bytes32 key) internal view returns (bool) {
        uint256 scope = _scopes[key][use.account];
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

    /// @dev Returns only if the signer is the key of a live session; otherwise ends validation with
    ///      `SIG_VALIDATION_FAILED`, because then the signature, not the scope, is what is wrong.
    ///      Nothing has been written when it ends that way: a found scope authenticates first.
    function _authenticate(Use memory use) internal view {
        if (use.authenticated) return;
        if (_records[use.sessionId][use.account] == _packRecord(use.signer, use.epoch, SessionStatus.Enabled)) return;
        assembly ("memory-safe") {
            mstore(0x00, SIG_VALIDATION_FAILED)
            return(0x00, 0x20)
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

    function _enable(address account, bytes32 sessionId, SessionGrant calldata grant, uint32 epoch) internal {
        if (_records[sessionId][account] != 0) {
            (SessionStatus status,,) = _session(account, sessionId);
            revert SessionNotUnused(sessionId, status);
        }
        if (grant.account != account) revert GrantAccountMismatch(sessionId, grant.account, account);
        if (grant.sessionKey == address(0)) revert InvalidSessionKey(sessionId);
        if (grant.validUntil == 0 || grant.validAfter >= grant.validUntil) {
            revert InvalidValidity(sessionId, grant.validAfter, grant.validUntil);
        }
        Permission[] calldata permissions = grant.permissions;
        if (permissions.length == 0) revert NoPermissions(sessionId);
        uint256 flags;
        for (uint256 i; i < permissions.length; ++i) {
            if (permissions[i].permissionType == PermissionType.GasLimit) flags = ScopeLib.FLAG_GAS_LIMIT;
        }
        _applyPermissions(
            account,
            sessionId,
            ScopeLib.seed(sessionId, grant.sessionKey, epoch),
            grant,
            ScopeLib.pack(grant.validAfter, grant.validUntil, flags)
        );
        _records[sessionId][account] = _packRecord(grant.sessionKey, epoch, SessionStatus.Enabled);
        emit SessionEnabled(account, sessionId, grant.sessionKey, grant.validAfter, grant.validUntil);
    }

    /// @dev Writes every scope of `grant` with `base` (window and flags, plus each limit's amount),
    ///      or clears them all when `base` is zero. Checks each permission's shape either way; a grant
    ///      that was enabled passes again.
    function _applyPermissions(
        address account,
        bytes32 sessionId,
        bytes32 seed,
        SessionGrant calldata grant,
        uint256 base
    ) internal {
        Permission[] calldata permissions = grant.permissions;
        for (uint256 i; i < permissions.length; ++i) {
            Permission calldata p = permissions[i];
            if (p.permissionType == PermissionType.Root && permissions.length != 1) revert RootNotExclusive(sessionId);
            if (!_isWellFormed(p, account)) revert InvalidPermission(sessionId, i);
            if (p.functions.length == 0) _applyScope(account, sessionId, seed, p, i, base);
            else _applyFunctions(account, sessionId, seed, p, i, base);
        }
    }

    /// @dev Whether `p` sets exactly the fields its type uses, to allowed values.
    function _isWellFormed(Permission calldata p, address account) internal view returns (bool) {
        PermissionType kind = p.permissionType;
        bool noTarget = p.target == address(0);
        bool validTarget = !noTarget && p.target != account && p.target != address(this);
        bool noFunctions = p.functions.length == 0;
        if (kind == PermissionType.Root) return noTarget && p.amount == 0 && noFunctions;
        if (kind == PermissionType.NativeTokenTransfer || kind == PermissionType.GasLimit) {
            return noTarget && p.amount <= MAX_ALLOWANCE && noFunctions;
        }
        if (kind == PermissionType.Erc20TokenTransfer) return validTarget && p.amount <= MAX_ALLOWANCE && noFunctions;
        if (kind == PermissionType.ContractAccess) return validTarget && p.amount == 0 && noFunctions;
        if (kind == PermissionType.FunctionsOnContract) return validTarget && p.amount == 0 && !noFunctions;
        return noTarget && p.amount == 0 && !noFunctions;
    }

    /// @dev Root, a limit or a contract: one scope. Limits carry their amount and may not repeat.
    function _applyScope(
        address account,
        bytes32 sessionId,
        bytes32 seed,
        Permission calldata p,
        uint256 index,
        uint256 base
    ) internal {
        PermissionType kind = p.permissionType;
        bool isLimit = kind == PermissionType.NativeTokenTransfer || kind == PermissionType.GasLimit
            || kind == PermissionType.Erc20TokenTransfer;
        bytes32 key = ScopeLib.key(seed, kind, 0, p.target);
        if (base == 0) {
            delete _scopes[key][account];
        } else if (isLimit) {
            if (_scopes[key][account] != 0) revert DuplicatePermission(sessionId, index);
            _scopes[key][account] = base | p.amount;
        } else {
            _scopes[key][account] = base;
        }
    }

    /// @dev Function permissions of all three types become one scope per selector. ERC-20 spend
    ///      selectors on other contracts are skipped: only `Erc20TokenTransfer` governs them.
    function _applyFunctions(
        address account,
        bytes32 sessionId,
        bytes32 seed,
        Permission calldata p,
        uint256 index,
        uint256 base
    ) internal {
        bool onAccount = p.permissionType == PermissionType.AccountFunctions;
        address target = onAccount ? account : p.target;
        bytes4[] calldata functions = p.functions;
        for (uint256 j; j < functions.length; ++j) {
            bytes4 selector = functions[j];
            if (onAccount ? _isForbidden(selector) : _isErc20Spend(selector)) {
                if (onAccount) revert InvalidPermission(sessionId, index);
                continue;
            }
            _scopes[ScopeLib.key(seed, PermissionType.FunctionsOnContract, selector, target)][account] = base;
        }
    }

    function _revokeAll(address account) internal {
        uint32 epoch = ++_epochs[account];
        emit AllSessionsRevoked(account, epoch);
    }

    // ---------------------------------------------------------------- helpers

    function _sessionId(SessionGrant calldata grant) internal view returns (bytes32) {
        return _hashTypedData(GrantLib.hash(grant));
    }

    function _isOwnerSignature(address account, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        return ECDSA.tryRecoverCalldata(digest, signature) == account
            || SignatureCheckerLib.isValidERC1271SignatureNowCalldata(account, digest, signature);
    }

    /// @dev A session's record, with an `Enabled` session of an earlier epoch reported as `Revoked`.
    function _session(address account, bytes32 sessionId)
        internal
        view
        returns (SessionStatus status, address sessionKey, uint32 epoch)
    {
        (sessionKey, epoch, status) = _unpackRecord(_records[sessionId][account]);
        if (status == SessionStatus.Enabled && epoch != _epochs[account]) status = SessionStatus.Revoked;
    }

    function _unpackRecord(uint256 record)
        internal
        pure
        returns (address sessionKey, uint32 epoch, SessionStatus status)
    {
        assembly ("memory-safe") {
            sessionKey := and(record, 0xffffffffffffffffffffffffffffffffffffffff)
            epoch := and(shr(_RECORD_EPOCH_SHIFT, record), 0xffffffff)
            status := shr(_RECORD_STATUS_SHIFT, record)
        }
    }

    function _packRecord(address sessionKey, uint32 epoch, SessionStatus status) internal pure returns (uint256) {
        return (uint256(status) << _RECORD_STATUS_SHIFT) | (uint256(epoch) << _RECORD_EPOCH_SHIFT)
            | uint256(uint160(sessionKey));
    }

    function _domainNameAndVersion() internal pure override returns (string memory, string memory) {
        return ("LeashSessionKeyValidator", "1");
    }
}
