// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ERC20} from "solady/tokens/ERC20.sol";

/// @notice A paymaster that sponsors every UserOperation from its EntryPoint deposit.
contract SponsorPaymaster {
    function validatePaymasterUserOp(PackedUserOperation calldata, bytes32, uint256)
        external
        pure
        returns (bytes memory context, uint256 validationData)
    {
        return ("", 0);
    }

    function postOp(uint8, bytes calldata, uint256, uint256) external {}
}

/// @notice An ERC-20 paymaster as accounts meet them: it pays the fee in ETH and, after execution,
///         pulls `FEE` tokens from the sender through the allowance the account gave it earlier.
contract TokenPaymaster {
    uint256 internal constant FEE = 1 ether;
    ERC20 internal immutable token;

    constructor(ERC20 feeToken) {
        token = feeToken;
    }

    function validatePaymasterUserOp(PackedUserOperation calldata userOp, bytes32, uint256)
        external
        pure
        returns (bytes memory context, uint256 validationData)
    {
        return (abi.encode(userOp.sender), 0);
    }

    function postOp(uint8, bytes calldata context, uint256, uint256) external {
        token.transferFrom(abi.decode(context, (address)), address(this), FEE);
    }
}
