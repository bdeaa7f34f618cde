// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A minimal ERC-1271 smart account for the session-signature tests: it accepts a hash
/// signed by its owner key and refuses every other signature.
contract TestSmartOwner {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        return ecrecover(hash, v, r, s) == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}

/// @notice Deploys `TestSmartOwner` with CREATE2: the factory an ERC-6492 signature names for an
/// account that does not exist yet.
contract TestSmartOwnerFactory {
    function deploy(address owner, bytes32 salt) external returns (address) {
        return address(new TestSmartOwner{salt: salt}(owner));
    }

    function predict(address owner, bytes32 salt) external view returns (address) {
        bytes32 initCodeHash = keccak256(abi.encodePacked(type(TestSmartOwner).creationCode, abi.encode(owner)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, initCodeHash)))));
    }
}
