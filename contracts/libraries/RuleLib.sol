// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    MAX_ONE_OF_VALUES,
    MAX_POLICY_CONFIG_BYTES,
    Rule,
    RULE_ARGUMENT,
    RULE_CALL_VALUE,
    RULE_DYNAMIC_ARGUMENT,
    RULE_OP_EQ,
    RULE_OP_IN_RANGE,
    RULE_OP_LTE,
    RULE_OP_ONE_OF,
    RULE_POLICY,
    RULE_RATE,
    RULE_USAGE,
    RULES_VERSION
} from "../types/SessionTypes.sol";
import {PeriodLib} from "./PeriodLib.sol";

/// @title RuleLib
/// @notice Argument rules of function permissions: the owner signs them in the grant's ABI form;
///         the validator keeps only hashes in the ruled scopes' slots and checks the compact form a
///         UserOperation carries against the calls (docs/permissions.md, "Rule data").
/// @dev Compact rule: `uint8 kind ‖ uint8 op ‖ uint16 index ‖ uint32 offset ‖ uint8 count ‖
///      bytes32 values[count]`. Set rules (EQ and ONE_OF on an argument) carry no values (count 0):
///      the words they read are hashed into the ruled scope's slot, and the enable wrote one scope
///      per combination of their values, so a lookup is the check and the values never travel.
///      Evaluation reads only calldata and never a clock or storage (ERC-7562).
library RuleLib {
    /// @dev What `compact` found wrong with a permission's rule data.
    enum Refusal {
        None,
        Unsupported,
        Invalid
    }

    /// @dev At most this many rules per permission, so that every compact form fits the uint16 length
    ///      of a signature attachment.
    uint256 internal constant MAX_RULES = 16;

    /// @dev At most this many combinations of set values per permission: each is a scope written at
    ///      enable (22,100 gas apiece).
    uint256 internal constant MAX_SET_COMBINATIONS = 32;

    /// @dev The bindings of `rules` (the `rules` field of permission `permissionIndex`, non-empty): for
    ///      each combination of its set rules' values (one empty combination without set rules),
    ///      `bind` of those words and the compact form. And the permission's counters, named by the
    ///      compact form's hash (its usage and rate rules hold the permission's index, so no two
    ///      permissions share one): the usage limit's count and the rate limit's first state word
    ///      (`PeriodLib`), in `compiled`. Or why the rules are refused. Malformed ABI inside a known
    ///      kind reverts, as Solidity's decoder does.
    function bindings(bytes calldata rules, uint256 permissionIndex)
        internal
        pure
        returns (bytes32[] memory result, Compiled memory compiled, bytes32 compactHash, Refusal refusal)
    {
        if (uint8(rules[0]) != RULES_VERSION) return (result, compiled, 0, Refusal.Unsupported);
        if (rules.length == 1) return (result, compiled, 0, Refusal.Invalid);
        Rule[] memory list = abi.decode(rules[1:], (Rule[]));
        if (list.length == 0 || list.length > MAX_RULES) return (result, compiled, 0, Refusal.Invalid);
        compiled = Compiled("", new bytes32[][](list.length), 0, 1, 0, 0, 0);
        for (uint256 i; i < list.length; ++i) {
            refusal = _compile(compiled, list[i], permissionIndex);
            if (refusal != Refusal.None) return (result, compiled, 0, refusal);
        }
        result = _bindings(compiled.sets, compiled.setCount, compiled.product, compiled.compactForm);
        compactHash = keccak256(compiled.compactForm);
    }

    /// @dev The rules of one permission as `bindings` compiles them, rule by rule.
    struct Compiled {
        bytes compactForm;
        bytes32[][] sets;
        uint256 setCount;
        uint256 product;
        uint256 uses;
        uint256 rateLimit;
        uint256 rateState;
    }

    /// @dev Appends `rule` to `compiled`: its compact form, and its values to the sets (a set rule) or
    ///      its count (a usage limit); or why it is refused.
    function _compile(Compiled memory compiled, Rule memory rule, uint256 permissionIndex)
        private
        pure
        returns (Refusal)
    {
        if (rule.kind == RULE_USAGE) {
            uint256 uses = abi.decode(rule.data, (uint32));
            if (uses == 0 || compiled.uses != 0) return Refusal.Invalid;
            compiled.uses = uses;
            compiled.compactForm = abi.encodePacked(
                compiled.compactForm, RULE_USAGE, uint8(0), uint16(0), uint32(permissionIndex), uint8(1), uses
            );
            return Refusal.None;
        }
        if (rule.kind == RULE_POLICY) return _compilePolicy(compiled, rule);
        if (rule.kind == RULE_RATE) return _compileRate(compiled, rule, permissionIndex);
        (uint256 kind, uint256 op, uint256 index, uint256 offset, bytes32[] memory values, bool known) = _decode(rule);
        if (!known) return Refusal.Unsupported;
        if (!_isWellFormed(op, values)) return Refusal.Invalid;
        if (kind != RULE_CALL_VALUE && (op == RULE_OP_EQ || op == RULE_OP_ONE_OF)) {
            compiled.sets[compiled.setCount++] = values;
            compiled.product *= values.length;
            if (compiled.product > MAX_SET_COMBINATIONS) return Refusal.Invalid;
            values = new bytes32[](0);
        }
        compiled.compactForm = abi.encodePacked(
            compiled.compactForm, uint8(kind), uint8(op), uint16(index), uint32(offset), uint8(values.length), values
        );
        return Refusal.None;
    }

    /// @dev The count of the compact `rules`' first rule of `kind` (a usage or a rate limit), or 0 when
    ///      they have none.
    function countOf(bytes calldata rules, uint256 kind) internal pure returns (uint256 count) {
        assembly ("memory-safe") {
            let end := add(rules.offset, rules.length)
            for { let p := rules.offset } lt(p, end) { p := add(p, add(9, shl(5, byte(8, calldataload(p))))) } {
                if eq(byte(0, calldataload(p)), kind) {
                    count := calldataload(add(p, 9))
                    break
                }
            }
        }
    }

    /// @dev A rate limit's compact form holds the permission's index and the count; its period and start
    ///      go to the counter's state word, written at enable.
    function _compileRate(Compiled memory compiled, Rule memory rule, uint256 permissionIndex)
        private
        pure
        returns (Refusal)
    {
        (uint256 count, uint256 period, uint256 start) = abi.decode(rule.data, (uint32, uint48, uint48));
        if (count == 0 || compiled.rateLimit != 0) return Refusal.Invalid;
        compiled.rateLimit = count;
        compiled.rateState = PeriodLib.initialState(period, start);
        compiled.compactForm = abi.encodePacked(
            compiled.compactForm, RULE_RATE, uint8(0), uint16(0), uint32(permissionIndex), uint8(1), count
        );
        return Refusal.None;
    }

    /// @dev A policy rule's compact form: its config's length in `offset`, the policy's address as the
    ///      first value, then the config padded to whole words.
    function _compilePolicy(Compiled memory compiled, Rule memory rule) private pure returns (Refusal) {
        (address policy, bytes memory config) = abi.decode(rule.data, (address, bytes));
        if (policy == address(0) || config.length > MAX_POLICY_CONFIG_BYTES) return Refusal.Invalid;
        uint256 words = (config.length + 31) / 32;
        compiled.compactForm = abi.encodePacked(
            compiled.compactForm,
            RULE_POLICY,
            uint8(0),
            uint16(0),
            uint32(config.length),
            uint8(1 + words),
            uint256(uint160(policy)),
            config,
            new bytes(words * 32 - config.length)
        );
        return Refusal.None;
    }

    /// @dev The kind of the compact rule at position `p` of `rules`, and the position of the next one.
    function kindAt(bytes calldata rules, uint256 p) internal pure returns (uint256 kind, uint256 next) {
        uint256 header;
        assembly ("memory-safe") {
            header := calldataload(add(rules.offset, p))
        }
        return (header >> 248, p + 9 + ((header >> 184) & 0xff) * 32);
    }

    /// @dev The policy and config of the compact policy rule at position `p` of `rules`.
    function policyAt(bytes calldata rules, uint256 p) internal pure returns (address policy, bytes calldata config) {
        uint256 length;
        assembly ("memory-safe") {
            length := shr(224, calldataload(add(rules.offset, add(p, 4))))
            policy := calldataload(add(rules.offset, add(p, 9)))
            config.offset := add(rules.offset, add(p, 41))
            config.length := length
        }
    }

    /// @dev One rule's fields; `known` is false for a kind this library does not enforce.
    function _decode(Rule memory rule)
        private
        pure
        returns (uint256 kind, uint256 op, uint256 index, uint256 offset, bytes32[] memory values, bool known)
    {
        kind = rule.kind;
        known = true;
        if (kind == RULE_ARGUMENT) {
            (index, op, values) = abi.decode(rule.data, (uint16, uint8, bytes32[]));
        } else if (kind == RULE_DYNAMIC_ARGUMENT) {
            (index, offset, op, values) = abi.decode(rule.data, (uint16, uint32, uint8, bytes32[]));
        } else if (kind == RULE_CALL_VALUE) {
            values = new bytes32[](1);
            values[0] = abi.decode(rule.data, (bytes32));
            op = RULE_OP_LTE;
        } else {
            known = false;
        }
    }

    /// @dev `keccak256(w_1 ‖ … ‖ w_k ‖ compactForm)` for every choice of one value from each of the
    ///      first `count` sets, `product` of them (mixed-radix counting, the last set fastest).
    function _bindings(bytes32[][] memory sets, uint256 count, uint256 product, bytes memory compactForm)
        private
        pure
        returns (bytes32[] memory hashes)
    {
        hashes = new bytes32[](product);
        bytes32[] memory words = new bytes32[](count);
        for (uint256 n; n < product; ++n) {
            uint256 rest = n;
            for (uint256 k = count; k != 0; --k) {
                bytes32[] memory set = sets[k - 1];
                words[k - 1] = set[rest % set.length];
                rest /= set.length;
            }
            hashes[n] = keccak256(abi.encodePacked(words, compactForm));
        }
    }

    /// @dev `evaluate`'s outcome, as flags: a rule that carries values does not hold (`ruleIndex` and
    ///      the value it read in `actual`); a word is not entirely inside the data (`ruleIndex`, and the
    ///      data's length in `actual`; evaluation stops there); the rules hold a usage limit; they name
    ///      a policy.
    uint256 internal constant FAILED = 1;
    uint256 internal constant OUT_OF_RANGE = 2;
    uint256 internal constant COUNTS_USES = 4;
    uint256 internal constant ASKS_POLICY = 8;
    uint256 internal constant RATE_LIMITED = 64;

    /// @dev Checks the compact `rules` against one call (see the flags above). `setWords` are the words
    ///      the set rules read, in rule order: the combination the caller's lookup checks (see `bind`),
    ///      complete unless `OUT_OF_RANGE`. The compact form is one the validator built (its hash found a
    ///      scope), so a rule with values has op NE, GT, GTE, LT, LTE or IN_RANGE, and one without is a
    ///      set rule.
    function evaluate(bytes calldata rules, uint256 value, bytes calldata data)
        internal
        pure
        returns (uint256 outcome, uint256 ruleIndex, uint256 actual, uint256[] memory setWords)
    {
        assembly ("memory-safe") {
            // Whether `word` meets the rule at `p`, by its operator's number in docs/permissions.md:
            // NE 1, GT 2, GTE 3, LT 4, LTE 5 (also the value limit), IN_RANGE 7.
            function holds(p, word) -> result {
                let first := calldataload(add(p, 9))
                switch byte(1, calldataload(p))
                case 1 { result := iszero(eq(word, first)) }
                case 2 { result := gt(word, first) }
                case 3 { result := iszero(lt(word, first)) }
                case 4 { result := lt(word, first) }
                case 5 { result := iszero(gt(word, first)) }
                default { result := and(iszero(lt(word, first)), iszero(gt(word, calldataload(add(p, 41))))) }
            }
            // Grown in place at the free memory pointer, then closed below.
            setWords := mload(0x40)
            mstore(setWords, 0)
            let i := 0
            for { let p := rules.offset } lt(p, add(rules.offset, rules.length)) { i := add(i, 1) } {
                let header := calldataload(p)
                // A usage limit (kind 3), a policy (kind 4) and a rate limit (kind 7) read nothing here:
                // flagged (COUNTS_USES, ASKS_POLICY, RATE_LIMITED, bit kind - 1), the validator counts,
                // asks and records them after the lookup.
                if or(
                    or(eq(byte(0, header), RULE_USAGE), eq(byte(0, header), RULE_POLICY)),
                    eq(byte(0, header), RULE_RATE)
                ) {
                    outcome := or(outcome, shl(sub(byte(0, header), 1), 1))
                    p := add(p, add(9, shl(5, byte(8, header))))
                    continue
                }
                // The word the rule reads: the call's value (kind 6), the head word `index` (kind 1),
                // or the word `offset` bytes into the tail of the dynamic argument at `index` (kind
                // 5). Every position stays below 2**34, so no sum wraps; a word not entirely inside
                // the data stops the evaluation.
                let word := value
                if iszero(eq(byte(0, header), 6)) {
                    let position := add(4, shl(5, shr(240, shl(16, header))))
                    if and(eq(byte(0, header), 5), iszero(gt(add(position, 32), data.length))) {
                        let head := calldataload(add(data.offset, position))
                        position := add(add(4, and(head, 0xffffffff)), shr(224, shl(32, header)))
                        if gt(head, 0xffffffff) { position := data.length }
                    }
                    if gt(add(position, 32), data.length) {
                        outcome := or(outcome, 3)
                        ruleIndex := i
                        actual := data.length
                        break
                    }
                    word := calldataload(add(data.offset, position))
                }
                switch byte(8, header)
                case 0 {
                    let words := add(mload(setWords), 1)
                    mstore(setWords, words)
                    mstore(add(setWords, shl(5, words)), word)
                }
                default {
                    if and(iszero(and(outcome, 1)), iszero(holds(p, word))) {
                        outcome := or(outcome, 1)
                        ruleIndex := i
                        actual := word
                    }
                }
                p := add(p, add(9, shl(5, byte(8, header))))
            }
            mstore(0x40, add(add(setWords, 0x20), shl(5, mload(setWords))))
        }
    }

    /// @dev `keccak256(w_1 ‖ … ‖ w_k ‖ rules)`: what binds a ruled scope to the compact `rules` and to
    ///      the words `evaluate` just read for its set rules (the last memory it allocated, so the rules
    ///      are copied right behind them, as scratch).
    function bind(bytes calldata rules, uint256[] memory setWords) internal pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let wordsLength := shl(5, mload(setWords))
            let start := add(setWords, 0x20)
            calldatacopy(add(start, wordsLength), rules.offset, rules.length)
            result := keccak256(start, add(wordsLength, rules.length))
        }
    }

    function _isWellFormed(uint256 op, bytes32[] memory values) private pure returns (bool) {
        uint256 count = values.length;
        if (op < RULE_OP_ONE_OF) return count == 1;
        if (op == RULE_OP_ONE_OF) return count != 0 && count <= MAX_ONE_OF_VALUES;
        return op == RULE_OP_IN_RANGE && count == 2 && uint256(values[0]) <= uint256(values[1]);
    }
}
