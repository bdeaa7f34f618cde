// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Erc6492Verifier
/// @notice ERC-6492's off-chain signature check, run without deploying anything: the input of an
///         `eth_call` with no `to` is this contract's creation code followed by the ABI-encoded
///         constructor arguments `(address signer, bytes32 hash, bytes signature)`. The constructor
///         returns its verdict in place of runtime code, one byte: 0x01 when `signer` signed `hash`
///         with `signature`, 0x00 when not; the call's output is that byte.
/// @dev Written from ERC-6492's specification. The checks, in the specification's order:
///      1. `signature` ends in the 32-byte magic 0x6492…6492: what precedes it is
///         `abi.encode(address factory, bytes factoryCalldata, bytes innerSignature)`. When `signer`
///         has no code, `factory` is called with `factoryCalldata` to deploy it; then `signer`'s
///         ERC-1271 `isValidSignature(hash, innerSignature)` decides.
///      2. `signer` has code: its `isValidSignature(hash, signature)` decides.
///      3. Otherwise `signature` must be 65 bytes `r ‖ s ‖ v` that ecrecover turns into `signer`.
///
///      Assumptions:
///      - Only `eth_call` runs it. Whatever the factory writes is discarded with the call; sent in a
///        transaction it would deploy the account for real and leave a one-byte contract behind.
///      - ERC-1271 accepts only with the magic value 0x1626ba7e in a return of at least 32 bytes. A
///        revert, a short return or any other value is a refusal (0x00), not a revert.
///      - The factory is called with no value and all the gas left; its return data is not read.
///        If it reverts, or succeeds without giving `signer` code, the verifier reverts with
///        `FactoryCallFailed` or `SignerNotDeployed`: the caller learns why, not just "no".
///      - A wrapped signature for a `signer` that already has code skips the factory.
///      - A wrapper that does not ABI-decode reverts with no data.
///      - ecrecover takes v ∈ {27, 28}, or {0, 1} read as 27 and 28. s is not limited to the lower
///        half: the verdict says who signed, and a malleated copy was signed by the same key.
///      - `signer` = address(0) is never valid by ecrecover (the precompile's failure value).
contract Erc6492Verifier {
    /// @dev ERC-6492's suffix of a wrapped signature.
    bytes32 internal constant ERC6492_MAGIC = 0x6492649264926492649264926492649264926492649264926492649264926492;
    /// @dev ERC-1271's answer for a valid signature: `isValidSignature.selector`.
    bytes4 internal constant ERC1271_MAGIC = 0x1626ba7e;

    /// @notice The wrapped signature's factory call reverted with `reason`.
    error FactoryCallFailed(address factory, bytes reason);
    /// @notice The factory call succeeded and `signer` still has no code.
    error SignerNotDeployed(address signer, address factory);

    constructor(address signer, bytes32 hash, bytes memory signature) {
        bool valid = _verify(signer, hash, signature);
        assembly ("memory-safe") {
            mstore(0, valid)
            return(31, 1)
        }
    }

    function _verify(address signer, bytes32 hash, bytes memory signature) private returns (bool) {
        if (_isWrapped(signature)) {
            (address factory, bytes memory factoryCalldata, bytes memory inner) =
                abi.decode(_dropSuffix(signature), (address, bytes, bytes));
            if (signer.code.length == 0) {
                (bool deployed, bytes memory reason) = factory.call(factoryCalldata);
                if (!deployed) revert FactoryCallFailed(factory, reason);
                if (signer.code.length == 0) revert SignerNotDeployed(signer, factory);
            }
            return _erc1271(signer, hash, inner);
        }
        if (signer.code.length != 0) return _erc1271(signer, hash, signature);
        return _ecrecover(signer, hash, signature);
    }

    /// @dev Whether `signature`'s last 32 bytes are the magic suffix.
    function _isWrapped(bytes memory signature) private pure returns (bool) {
        if (signature.length < 32) return false;
        bytes32 tail;
        assembly ("memory-safe") {
            // The data starts at signature + 32, so its last word starts at signature + length.
            tail := mload(add(signature, mload(signature)))
        }
        return tail == ERC6492_MAGIC;
    }

    /// @dev `signature` without its 32-byte suffix, shortened in place (nothing reads it after).
    function _dropSuffix(bytes memory signature) private pure returns (bytes memory body) {
        body = signature;
        assembly ("memory-safe") {
            mstore(body, sub(mload(body), 32))
        }
    }

    function _erc1271(address signer, bytes32 hash, bytes memory signature) private view returns (bool) {
        (bool answered, bytes memory answer) = signer.staticcall(abi.encodeWithSelector(ERC1271_MAGIC, hash, signature));
        return answered && answer.length >= 32 && bytes4(abi.decode(answer, (bytes32))) == ERC1271_MAGIC;
    }

    function _ecrecover(address signer, bytes32 hash, bytes memory signature) private pure returns (bool) {
        if (signature.length != 65) return false;
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 32))
            s := mload(add(signature, 64))
            v := byte(0, mload(add(signature, 96)))
        }
        if (v < 27) v += 27;
        if (v != 27 && v != 28) return false;
        address recovered = ecrecover(hash, v, r, s);
        return recovered != address(0) && recovered == signer;
    }
}
