// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccount} from "@account-abstraction/contracts/interfaces/IAccount.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ECDSA} from "solady/utils/ECDSA.sol";
import {Execution} from "../types/Execution.sol";
import {IERC5267} from "../interfaces/IERC5267.sol";
import {IERC7579Account} from "../interfaces/IERC7579Account.sol";
import {IERC7579Module, IERC7579Validator, MODULE_TYPE_VALIDATOR} from "../interfaces/IERC7579Module.sol";
import {ILeashAccount} from "../interfaces/ILeashAccount.sol";
import {ISessionKeyValidator} from "../interfaces/ISessionKeyValidator.sol";
import {ExecutionLib} from "../libraries/ExecutionLib.sol";
import {SignatureLib} from "../libraries/SignatureLib.sol";
import {SessionKeyValidator} from "../modules/SessionKeyValidator.sol";

/// @title LeashAccount
/// @notice A minimal ERC-4337 v0.8 + ERC-7579 account, meant as the EIP-7702 delegation target of an EOA.
/// @dev Assumptions:
/// - The code runs at an EOA's address through an EIP-7702 delegation; the EOA's own key is the owner,
///   so an owner signature is one that recovers to `address(this)`. There is no owner storage.
/// - The EntryPoint is the canonical v0.8 deployment at `ENTRY_POINT`.
/// - Validator selection rides in the UserOperation nonce: the top 20 bytes of the 192-bit nonce key
///   name the validator module; zero selects the owner. This costs no signature bytes and gives each
///   validator its own nonce lanes.
/// - State lives in an ERC-7201 namespace, because an EOA may have been delegated to other code
///   before and that code's storage stays behind.
/// - Only call and batch executions with the default (revert) exec type are supported; delegatecall is
///   rejected, so no executed code can write this account's storage.
/// - `SessionKeyValidator` at its deterministic address (`SESSION_KEY_VALIDATOR`) is built in: it
///   keeps the "installed" flag for each account itself, in the word it reads on every validation
///   anyway, so this account neither stores nor reads a flag of its own for it. It is installed and
///   uninstalled like any other validator, and `isModuleInstalled` asks it.
/// - A session's balance-checked operation (docs/permissions.md, *Outflow by what actually left*)
///   executes through `executeUserOp`, which measures the listed assets around the calls and has the
///   built-in validator settle the decrease; the validator checked the calls and the list in
///   validation, where balances may not be read (ERC-7562).
/// - An EOA can re-delegate at any time with a new EIP-7702 authorization; nothing here can stop that.
contract LeashAccount is IAccount, IERC5267, IERC7579Account, ILeashAccount {
    /// @notice The canonical ERC-4337 v0.8 EntryPoint.
    address public constant ENTRY_POINT = 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108;

    /// @notice The standard CREATE2 deployer every leash contract is deployed through.
    address public constant CREATE2_DEPLOYER = 0x4e59b44847b379578588920cA78FbF26c0B4956C;

    /// @notice The built-in `SessionKeyValidator`: its CREATE2 address under salt 0.
    /// @dev Computed from the validator's creation code at deployment (Solidity cannot hash
    ///      `type(C).creationCode` into a constant), so it always matches the validator compiled with
    ///      this account and needs no hand-kept literal. The validator does not know this account, so
    ///      there is no cycle. The creation code rides along in this contract's init code only.
    address public immutable SESSION_KEY_VALIDATOR;

    bytes4 internal constant _ERC1271_MAGIC = 0x1626ba7e;

    /// @dev ERC-4337 `validationData` for a signature that does not verify.
    uint256 internal constant SIG_VALIDATION_FAILED = 1;

    /// @dev `keccak256(abi.encode(uint256(keccak256("leash.account.storage")) - 1)) & ~bytes32(uint256(0xff))`.
    bytes32 internal constant STORAGE_SLOT = 0xffc70a195a36bcc53aa0be73f58fa10c9e03333cb2e2baa1f262d1cbf8595300;

    /// @dev Transient: the hash of the balance-checked session operation executing now, which
    ///      `isValidSignature` tells the built-in validator (its sessions' typed-data signatures hold
    ///      only during their own operations). `keccak256("leash.account.executing") - 1`.
    bytes32 internal constant EXECUTING_SLOT = 0x6b96c7f761d95a61614f71609b6426c55144da92dee5860d58ca5e408e40b3aa;

    /// @custom:storage-location erc7201:leash.account.storage
    struct AccountStorage {
        mapping(address validator => bool installed) installedValidators;
    }

    modifier onlyEntryPoint() {
        if (msg.sender != ENTRY_POINT) revert UnauthorizedCaller(msg.sender);
        _;
    }

    modifier onlyEntryPointOrSelf() {
        if (msg.sender != ENTRY_POINT && msg.sender != address(this)) revert UnauthorizedCaller(msg.sender);
        _;
    }

    constructor() {
        bytes32 initCodeHash = keccak256(type(SessionKeyValidator).creationCode);
        SESSION_KEY_VALIDATOR = address(
            uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), CREATE2_DEPLOYER, bytes32(0), initCodeHash))))
        );
    }

    /// @notice Accepts native value, like the EOA it stands in for.
    receive() external payable {}

    // ---------------------------------------------------------------- ERC-4337

    /// @inheritdoc IAccount
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash, uint256 missingAccountFunds)
        external
        onlyEntryPoint
        returns (uint256 validationData)
    {
        address validator = address(uint160(userOp.nonce >> 96));
        if (validator == address(0)) {
            // The raw hash or its EIP-191 form, told apart by v (see `SignatureLib`).
            validationData = SignatureLib.tryRecoverCalldata(userOpHash, userOp.signature) == address(this)
                ? 0
                : SIG_VALIDATION_FAILED;
        } else {
            // The built-in validator checks its own installed flag (it fails every signature of an
            // account that has not installed it), which saves a cold storage read here.
            if (validator != SESSION_KEY_VALIDATOR && !_storage().installedValidators[validator]) {
                revert ValidatorNotInstalled(validator);
            }
            validationData = _validateWith(validator, userOp, userOpHash);
        }
        if (missingAccountFunds != 0) {
            assembly ("memory-safe") {
                // The EntryPoint checks the deposit itself; a failed transfer surfaces there as AA21.
                pop(call(gas(), caller(), missingAccountFunds, codesize(), 0x00, codesize(), 0x00))
            }
        }
    }

    // ---------------------------------------------------------------- ERC-7579 execution

    /// @inheritdoc IERC7579Account
    function execute(bytes32 mode, bytes calldata executionCalldata) external payable onlyEntryPointOrSelf {
        _execute(mode, executionCalldata);
    }

    /// @notice ERC-4337 execution of a balance-checked UserOperation, whose `callData` is
    ///         `executeUserOp.selector ‖ execute call ‖ token_1 ‖ … ‖ token_n ‖ uint8 n` (see
    ///         `ExecutionLib.outflowTokens`). For a session of the built-in validator it measures the
    ///         account's native balance and its balance of each listed token around the calls and has
    ///         the validator charge each decrease against the session's allowances, whatever path the
    ///         value took; an outflow beyond an allowance reverts the calls. Any other validator or
    ///         the owner: the calls alone.
    /// @dev The EntryPoint calls this in the execution phase, where balances may be read (validation
    ///      may not: foreign storage, ERC-7562). Its validation checked the calls and the list.
    function executeUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external onlyEntryPoint {
        bytes calldata callData = userOp.callData;
        (bytes32 mode, bytes calldata executionCalldata) = ExecutionLib.decodeExecuteCall(callData[4:]);
        if (address(uint160(userOp.nonce >> 96)) != SESSION_KEY_VALIDATOR) {
            _execute(mode, executionCalldata);
            return;
        }
        bytes calldata tokens = ExecutionLib.outflowTokens(callData);
        uint256 count = tokens.length / 20 + 1;
        // Asset 0 is native value; balances hold the "before" figures, then the decreases.
        address[] memory assets = new address[](count);
        uint256[] memory balances = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            if (i != 0) assets[i] = ExecutionLib.tokenAt(tokens, i - 1);
            balances[i] = _balanceOf(assets[i]);
        }
        assembly ("memory-safe") {
            tstore(EXECUTING_SLOT, userOpHash)
        }
        _execute(mode, executionCalldata);
        assembly ("memory-safe") {
            tstore(EXECUTING_SLOT, 0)
        }
        for (uint256 i; i < count; ++i) {
            uint256 balance = _balanceOf(assets[i]);
            balances[i] = balances[i] > balance ? balances[i] - balance : 0;
        }
        ISessionKeyValidator(SESSION_KEY_VALIDATOR).settleOutflow(userOpHash, assets, balances);
    }

    function _execute(bytes32 mode, bytes calldata executionCalldata) internal {
        (bytes1 callType, bytes1 execType) = ExecutionLib.decodeMode(mode);
        if (execType != ExecutionLib.EXECTYPE_DEFAULT) revert UnsupportedExecType(execType);
        if (callType == ExecutionLib.CALLTYPE_SINGLE) {
            (address target, uint256 value, bytes calldata callData) = ExecutionLib.decodeSingle(executionCalldata);
            _call(target, value, callData);
        } else if (callType == ExecutionLib.CALLTYPE_BATCH) {
            Execution[] calldata executions = ExecutionLib.decodeBatch(executionCalldata);
            for (uint256 i; i < executions.length; ++i) {
                _call(executions[i].target, executions[i].value, executions[i].callData);
            }
        } else {
            revert UnsupportedCallType(callType);
        }
    }

    /// @inheritdoc IERC7579Account
    function supportsExecutionMode(bytes32 mode) external pure returns (bool) {
        (bytes1 callType, bytes1 execType) = ExecutionLib.decodeMode(mode);
        return execType == ExecutionLib.EXECTYPE_DEFAULT
            && (callType == ExecutionLib.CALLTYPE_SINGLE || callType == ExecutionLib.CALLTYPE_BATCH);
    }

    /// @inheritdoc IERC7579Account
    function accountId() external pure returns (string memory) {
        return "leash.account.0.1.0";
    }

    // ---------------------------------------------------------------- ERC-7579 modules

    /// @inheritdoc IERC7579Account
    function supportsModule(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    /// @inheritdoc IERC7579Account
    function installModule(uint256 moduleTypeId, address module, bytes calldata initData)
        external
        payable
        onlyEntryPointOrSelf
    {
        if (moduleTypeId != MODULE_TYPE_VALIDATOR) revert UnsupportedModuleType(moduleTypeId);
        if (module.code.length == 0 || !IERC7579Module(module).isModuleType(moduleTypeId)) {
            revert NotAModuleOfType(module, moduleTypeId);
        }
        if (_isInstalled(module)) revert ModuleAlreadyInstalled(module);
        // The built-in validator records its installation in `onInstall`.
        if (module != SESSION_KEY_VALIDATOR) _storage().installedValidators[module] = true;
        IERC7579Module(module).onInstall(initData);
        emit ModuleInstalled(moduleTypeId, module);
    }

    /// @inheritdoc IERC7579Account
    /// @dev Another module's `onUninstall` may fail without blocking the uninstall: a broken or
    ///      hostile module must never be able to keep itself installed. The built-in validator's
    ///      `onUninstall` *is* the uninstall (it clears its flag and revokes every session), so its
    ///      failure reverts: an uninstall that left it live must not report success.
    function uninstallModule(uint256 moduleTypeId, address module, bytes calldata deInitData)
        external
        payable
        onlyEntryPointOrSelf
    {
        if (moduleTypeId != MODULE_TYPE_VALIDATOR) revert UnsupportedModuleType(moduleTypeId);
        if (!_isInstalled(module)) revert ModuleNotInstalled(module);
        if (module == SESSION_KEY_VALIDATOR) {
            IERC7579Module(module).onUninstall(deInitData);
        } else {
            delete _storage().installedValidators[module];
            (bool success,) = module.call(abi.encodeCall(IERC7579Module.onUninstall, (deInitData)));
            success;
        }
        emit ModuleUninstalled(moduleTypeId, module);
    }

    /// @inheritdoc IERC7579Account
    function isModuleInstalled(uint256 moduleTypeId, address module, bytes calldata) external view returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR && _isInstalled(module);
    }

    // ---------------------------------------------------------------- ERC-1271 and ERC-165

    /// @notice ERC-1271: the owner (this address's key) signed `hash` directly (64 or 65 bytes), or an
    ///         installed validator accepts `validator (20) ‖ its signature` through
    ///         `isValidSignatureWithSender`. The built-in validator's signature is prefixed with the
    ///         hash of the balance-checked session operation executing now (zero if none).
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length == 64 || signature.length == 65) {
            return ECDSA.tryRecoverCalldata(hash, signature) == address(this) ? _ERC1271_MAGIC : bytes4(0xffffffff);
        }
        if (signature.length < 20) return 0xffffffff;
        address validator = address(bytes20(signature[0:20]));
        if (!_isInstalled(validator)) return 0xffffffff;
        bytes memory forwarded = signature[20:];
        if (validator == SESSION_KEY_VALIDATOR) {
            bytes32 executing;
            assembly ("memory-safe") {
                executing := tload(EXECUTING_SLOT)
            }
            forwarded = abi.encodePacked(executing, forwarded);
        }
        try IERC7579Validator(validator).isValidSignatureWithSender(msg.sender, hash, forwarded) returns (
            bytes4 answer
        ) {
            return answer == _ERC1271_MAGIC ? _ERC1271_MAGIC : bytes4(0xffffffff);
        } catch {
            return 0xffffffff;
        }
    }

    /// @inheritdoc IERC5267
    /// @dev The domain ERC-7739 nests a session's message signatures in, so that one made for this
    ///      account verifies on no other.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", "LeashAccount", "1", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @notice ERC-165.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == 0x01ffc9a7 // ERC-165
                || interfaceId == type(IAccount).interfaceId || interfaceId == 0x1626ba7e; // ERC-1271
    }

    // ---------------------------------------------------------------- token receipt

    /// @notice Accepts ERC-721 safe transfers.
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC721Received.selector;
    }

    /// @notice Accepts ERC-1155 safe transfers.
    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC1155Received.selector;
    }

    /// @notice Accepts ERC-1155 safe batch transfers.
    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return this.onERC1155BatchReceived.selector;
    }

    // ---------------------------------------------------------------- internals

    /// @dev The account's balance of `asset` (zero: native value). A token whose `balanceOf` fails
    ///      or answers short reverts the operation: an allowance cannot be kept on an unreadable
    ///      balance.
    function _balanceOf(address asset) internal view returns (uint256 amount) {
        if (asset == address(0)) return address(this).balance;
        assembly ("memory-safe") {
            mstore(0x00, 0x70a08231) // balanceOf(address)
            mstore(0x20, address())
            if iszero(and(gt(returndatasize(), 0x1f), staticcall(gas(), asset, 0x1c, 0x24, 0x00, 0x20))) {
                revert(0x00, 0x00)
            }
            amount := mload(0x00)
        }
    }

    function _call(address target, uint256 value, bytes calldata data) internal {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, data.offset, data.length)
            if iszero(call(gas(), target, value, m, data.length, codesize(), 0x00)) {
                // Bubble the callee's revert data up unchanged.
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev Calls `validator.validateUserOp(userOp, userOpHash)` by copying the ABI-encoded struct out of
    ///      this call's calldata as it is: offsets inside a struct are relative to the struct, so its
    ///      bytes need no re-encoding (about 1,700 gas less per UserOperation than `abi.encodeCall`).
    ///      The EntryPoint encodes the struct last, so it runs to the end of the calldata. A revert
    ///      bubbles up unchanged; a return shorter than one word reverts, as a high-level call would.
    function _validateWith(address validator, PackedUserOperation calldata userOp, bytes32 userOpHash)
        internal
        returns (uint256 validationData)
    {
        bytes4 selector = IERC7579Validator.validateUserOp.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let n := sub(calldatasize(), userOp)
            mstore(m, selector)
            mstore(add(m, 0x04), 0x40)
            mstore(add(m, 0x24), userOpHash)
            calldatacopy(add(m, 0x44), userOp, n)
            if iszero(call(gas(), validator, 0, m, add(n, 0x44), 0x00, 0x20)) {
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
            if lt(returndatasize(), 0x20) { revert(0x00, 0x00) }
            validationData := mload(0x00)
        }
    }

    /// @dev Whether validator `module` is installed: the built-in validator's own flag, or this
    ///      account's record for any other. A chain without the built-in validator deployed reports it
    ///      as not installed.
    function _isInstalled(address module) internal view returns (bool installed) {
        if (module != SESSION_KEY_VALIDATOR) return _storage().installedValidators[module];
        (bool success, bytes memory result) =
            module.staticcall(abi.encodeCall(ISessionKeyValidator.isInitialized, (address(this))));
        return success && result.length == 0x20 && abi.decode(result, (bool));
    }

    function _storage() internal pure returns (AccountStorage storage $) {
        assembly ("memory-safe") {
            $.slot := STORAGE_SLOT
        }
    }
}
