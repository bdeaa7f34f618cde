// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISessionSigners
/// @notice What `SessionKeyValidator` asks of `SessionSigners` (its `SIGNERS()`), and what off-chain
///         checks ask too, so that a contract signer's signature is judged as validation judges it.
interface ISessionSigners {
    /// @notice The signer id `keySignature` speaks for, and whether it signed `hash`.
    /// @param kind One of the signer kinds 1–5 (`SIGNER_CONTRACT` … `SIGNER_WEBAUTHN_FALLBACK`).
    function check(uint256 kind, bytes32 hash, bytes calldata keySignature)
        external
        view
        returns (address signer, bool valid);
}
