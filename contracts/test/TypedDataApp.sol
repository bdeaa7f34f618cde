// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";

interface IERC1271 {
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4);
}

/// @notice An app that moves tokens on an owner's EIP-712 signature, as Permit2's
///         `permitTransferFrom` does: the owner approved it once, then signs `Pull`s. For the tests of
///         session keys signing as their account.
contract TypedDataApp {
    bytes32 public constant PULL_TYPEHASH = keccak256("Pull(address token,uint256 amount,address to,uint256 nonce)");
    string public constant PULL_TYPE = "Pull(address token,uint256 amount,address to,uint256 nonce)";

    error BadSignature(address owner, bytes32 hash);

    mapping(address owner => mapping(uint256 nonce => bool)) public used;

    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TypedDataApp"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    function contentsOf(address token, uint256 amount, address to, uint256 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(PULL_TYPEHASH, token, amount, to, nonce));
    }

    function hashOf(address token, uint256 amount, address to, uint256 nonce) public view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), contentsOf(token, amount, to, nonce)));
    }

    /// @notice Moves `amount` of `token` from `owner` to `to`, on `owner`'s signature.
    function pull(address owner, address token, uint256 amount, address to, uint256 nonce, bytes calldata signature)
        external
    {
        bytes32 hash = hashOf(token, amount, to, nonce);
        if (used[owner][nonce] || IERC1271(owner).isValidSignature(hash, signature) != 0x1626ba7e) {
            revert BadSignature(owner, hash);
        }
        used[owner][nonce] = true;
        ERC20(token).transferFrom(owner, to, amount);
    }
}
