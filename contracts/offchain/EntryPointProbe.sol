// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title EntryPointProbe
/// @notice Measures a UserOperation's validation and execution in one transaction, as the EntryPoint's
///         `handleOps` runs them, for a gas estimate. Never deployed: a state override puts this
///         runtime code at the EntryPoint's address for one `eth_call`, so the account sees the
///         EntryPoint as `msg.sender` in both calls.
/// @dev Why one transaction: a session's balance-checked operation leaves its context in transient
///      storage during validation (the validator keeps the session by account and userOpHash, the
///      account the executing hash), and the account's ERC-1271 accepts the session's typed-data
///      signature only while that context is there. Execution measured in a call of its own finds no
///      context, so an app redeeming such a signature reverts; here transient storage and warm state
///      carry over from validation to execution, as they do on chain.
///
///      Assumptions:
///      - The estimate signs with a placeholder. A failing signature still lets validation do all its
///        work (the validator's design: it returns SIG_VALIDATION_FAILED rather than reverting, after
///        checking everything else), so it leaves the same context a real signature would.
///      - The account's only call back to the EntryPoint during these calls is paying its prefund,
///        a plain value transfer. `receive` does what the EntryPoint's does: it adds the value to the
///        account's deposit, in the EntryPoint's own storage word (`deposits` is the first variable
///        of v0.8's `StakeManager` and `deposit` the first word of its `DepositInfo`), and emits
///        `Deposited`, so validation costs what it costs under the real EntryPoint.
///      - The EntryPoint's own work around the two calls (nonce, prefund accounting, the 63/64 gas
///        rule's checks) is not run here; the caller adds it, as it does to separate measurements.
///      - Gas used is the gas the call consumed in this frame, refunds not deducted (a gas limit must
///        cover them). A call that reverts still reports what it used, with its revert data.
contract EntryPointProbe {
    /// @notice What one call of the account did.
    struct Measurement {
        uint256 gasUsed;
        bool success;
        bytes returnData;
    }

    /// @dev The EntryPoint's `deposits[account].deposit` (slot 0 of its storage).
    mapping(address => uint256) private deposits;

    /// @notice The EntryPoint's event for a deposit, emitted as it emits it.
    event Deposited(address indexed account, uint256 totalDeposit);

    /// @notice Calls `account` with `validation` (its `validateUserOp`), then with `execution` (its
    ///         `callData` or `executeUserOp`), measuring each; never reverts on the account's account.
    function measure(address account, bytes calldata validation, bytes calldata execution)
        external
        returns (Measurement memory validated, Measurement memory executed)
    {
        validated = _measure(account, validation);
        executed = _measure(account, execution);
    }

    /// @notice The account paying its prefund, credited to its deposit as the EntryPoint credits it.
    receive() external payable {
        uint256 total = deposits[msg.sender] + msg.value;
        deposits[msg.sender] = total;
        emit Deposited(msg.sender, total);
    }

    function _measure(address account, bytes calldata data) private returns (Measurement memory measured) {
        // Copied before the gas is read, so the measurement holds the call and no more of the probe.
        bytes memory input = data;
        uint256 before = gasleft();
        (bool success, bytes memory returnData) = account.call(input);
        measured = Measurement({gasUsed: before - gasleft(), success: success, returnData: returnData});
    }
}
