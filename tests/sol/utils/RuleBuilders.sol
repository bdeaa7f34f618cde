// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {
    Permission,
    Rule,
    RULE_ARGUMENT,
    RULE_CALL_VALUE,
    RULE_DYNAMIC_ARGUMENT,
    RULE_OP_EQ,
    RULE_OP_LTE,
    RULE_OP_ONE_OF,
    RULE_POLICY,
    RULE_RATE,
    RULE_USAGE,
    RULES_VERSION,
    SIG_FLAG_RULES,
    SIG_MODE_USE
} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "./SessionTestBase.sol";

/// @notice Builders for argument rules, written from docs/permissions.md independently of
///         `RuleLib`: the grant's ABI form, the compact form a UserOperation carries, and the
///         signature with its attachments.
abstract contract RuleBuilders is SessionTestBase {
    /// @dev One rule in both forms.
    struct TestRule {
        Rule abiForm;
        bytes compactForm;
    }

    function _argument(uint16 index, uint8 op, bytes32[] memory values) internal pure returns (TestRule memory) {
        return
            TestRule(
                Rule(RULE_ARGUMENT, abi.encode(index, op, values)), _compactRule(RULE_ARGUMENT, op, index, 0, values)
            );
    }

    /// @dev A set rule (EQ, ONE_OF) travels without its values: the lookup checks them.
    function _compactRule(uint8 kind, uint8 op, uint16 index, uint32 offset, bytes32[] memory values)
        internal
        pure
        returns (bytes memory)
    {
        if (op == RULE_OP_EQ || op == RULE_OP_ONE_OF) values = new bytes32[](0);
        return abi.encodePacked(kind, op, index, offset, uint8(values.length), values);
    }

    function _dynamicArgument(uint16 index, uint32 offset, uint8 op, bytes32[] memory values)
        internal
        pure
        returns (TestRule memory)
    {
        return TestRule(
            Rule(RULE_DYNAMIC_ARGUMENT, abi.encode(index, offset, op, values)),
            _compactRule(RULE_DYNAMIC_ARGUMENT, op, index, offset, values)
        );
    }

    /// @dev At most `count` calls under the permission at `permissionIndex` of its grant (which the
    ///      compact form names, so that each permission counts its own calls).
    function _usage(uint32 count, uint32 permissionIndex) internal pure returns (TestRule memory) {
        return TestRule(
            Rule(RULE_USAGE, abi.encode(count)),
            abi.encodePacked(RULE_USAGE, uint8(0), uint16(0), permissionIndex, uint8(1), uint256(count))
        );
    }

    /// @dev Ask `policy` with `config`: in the compact form, the config's length, the policy as a word,
    ///      then the config padded to whole words.
    function _policy(address policy, bytes memory config) internal pure returns (TestRule memory) {
        uint256 words = (config.length + 31) / 32;
        return TestRule(
            Rule(RULE_POLICY, abi.encode(policy, config)),
            abi.encodePacked(
                RULE_POLICY,
                uint8(0),
                uint16(0),
                uint32(config.length),
                uint8(1 + words),
                uint256(uint160(policy)),
                config,
                new bytes(words * 32 - config.length)
            )
        );
    }

    /// @dev At most `count` calls per period under the permission at `permissionIndex` of its grant.
    function _rate(uint32 count, uint48 period, uint48 start, uint32 permissionIndex)
        internal
        pure
        returns (TestRule memory)
    {
        return TestRule(
            Rule(RULE_RATE, abi.encode(count, period, start)),
            abi.encodePacked(RULE_RATE, uint8(0), uint16(0), permissionIndex, uint8(1), uint256(count))
        );
    }

    function _callValue(uint256 maxValue) internal pure returns (TestRule memory) {
        return TestRule(
            Rule(RULE_CALL_VALUE, abi.encode(maxValue)),
            abi.encodePacked(RULE_CALL_VALUE, RULE_OP_LTE, uint16(0), uint32(0), uint8(1), maxValue)
        );
    }

    function _words(uint256 a) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](1);
        list[0] = bytes32(a);
    }

    function _words(uint256 a, uint256 b) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](2);
        (list[0], list[1]) = (bytes32(a), bytes32(b));
    }

    function _words(uint256 a, uint256 b, uint256 c) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](3);
        (list[0], list[1], list[2]) = (bytes32(a), bytes32(b), bytes32(c));
    }

    function _rules(TestRule memory a) internal pure returns (TestRule[] memory list) {
        list = new TestRule[](1);
        list[0] = a;
    }

    function _rules(TestRule memory a, TestRule memory b) internal pure returns (TestRule[] memory list) {
        list = new TestRule[](2);
        (list[0], list[1]) = (a, b);
    }

    /// @dev `rules` as a permission carries them: the version byte, then `abi.encode(Rule[])`.
    function _rulesField(TestRule[] memory rules) internal pure returns (bytes memory) {
        Rule[] memory abiForms = new Rule[](rules.length);
        for (uint256 i; i < rules.length; ++i) {
            abiForms[i] = rules[i].abiForm;
        }
        return abi.encodePacked(RULES_VERSION, abi.encode(abiForms));
    }

    function _compact(TestRule[] memory rules) internal pure returns (bytes memory result) {
        for (uint256 i; i < rules.length; ++i) {
            result = abi.encodePacked(result, rules[i].compactForm);
        }
    }

    /// @dev `functions-on-contract` of `selector` on `to`, under `rules`.
    function _ruledOn(address to, bytes4 selector, TestRule[] memory rules)
        internal
        pure
        returns (Permission memory p)
    {
        p = _functionsOn(to, selector);
        p.rules = _rulesField(rules);
    }

    function _ruledOnAll(bytes4 selector, TestRule[] memory rules) internal pure returns (Permission memory p) {
        p = _functionsOnAll(selector);
        p.rules = _rulesField(rules);
    }

    /// @dev One attachment: `uint8 callIndex ‖ uint16 length ‖ compact`.
    function _attachment(uint8 callIndex, TestRule[] memory rules) internal pure returns (bytes memory) {
        bytes memory compact = _compact(rules);
        return abi.encodePacked(callIndex, uint16(compact.length), compact);
    }

    /// @dev A use-form UserOperation whose signature carries `attachments` (the rules flag set).
    function _ruledOp(bytes32 sessionId, bytes memory callData, bytes memory attachments)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = buildUserOp(owner, _sessionNonceKey(sessionId), callData);
        userOp.signature = abi.encodePacked(
            SIG_MODE_USE | SIG_FLAG_RULES,
            sessionId,
            _keySignature(userOp, SESSION_KEY),
            attachments,
            uint16(attachments.length)
        );
    }
}
