// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice ERC-1271 signers that misbehave, for the contract-signer tests: each is asked
///         `isValidSignature` by `SessionSigners` and must never be taken for a yes.
contract RevertingSigner {
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        revert("signer refuses");
    }
}

/// @notice Burns every unit of gas it is given.
contract GasBurningSigner {
    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        uint256 spin;
        while (gasleft() > 0) ++spin;
        return bytes4(uint32(spin));
    }
}

/// @notice Answers with the magic value in the wrong place, or with too little data.
contract GarbageSigner {
    bool internal immutable _short;

    constructor(bool short) {
        _short = short;
    }

    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        bool short = _short;
        assembly {
            // Three bytes of the magic value, or the magic value right-aligned in its word.
            if short {
                mstore(0x00, 0x1626ba7e00000000000000000000000000000000000000000000000000000000)
                return(0x00, 3)
            }
            mstore(0x00, 0x1626ba7e)
            return(0x00, 0x20)
        }
    }
}
