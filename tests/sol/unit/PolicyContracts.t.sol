// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {RecipientBlocklistPolicy} from "../../../contracts/policies/RecipientBlocklistPolicy.sol";
import {RULE_OP_LTE, SessionGrant} from "../../../contracts/types/SessionTypes.sol";
import {Target} from "../../../contracts/test/Target.sol";
import {RuleBuilders} from "../utils/RuleBuilders.sol";
import {
    ConfigEchoPolicy,
    GarbagePolicy,
    GasBurningPolicy,
    LongAnswerPolicy,
    RevertBombPolicy,
    RevertingPolicy
} from "../utils/Policies.sol";

/// @notice Policy contracts (docs/permissions.md, "Policy contracts"): asked in validation for each
///         call their permission allows; only their selector allows it.
contract PolicyContractsTest is RuleBuilders {
    address internal constant BOB = address(0xB0B);

    function _payCall(address to) internal view returns (bytes memory) {
        return _single(address(target), 0, abi.encodeCall(Target.pay, (to, 1)));
    }

    function _sessionAsking(TestRule[] memory rules) internal returns (bytes32) {
        return _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules))));
    }

    function _refused(bytes32 id, uint256 ruleIndex, address policy, bytes memory reason)
        internal
        view
        returns (bytes memory)
    {
        return abi.encodeWithSelector(
            ISessionKeyValidator.PolicyRefused.selector,
            id,
            address(target),
            Target.pay.selector,
            ruleIndex,
            policy,
            reason
        );
    }

    function test_theExamplePolicyFollowsTheAccountsBlocklist() public {
        RecipientBlocklistPolicy blocklist = new RecipientBlocklistPolicy();
        TestRule[] memory rules = _rules(_policy(address(blocklist), abi.encode(uint256(0))));
        bytes32 id = _sessionAsking(rules);
        handleOp(_ruledOp(id, _payCall(BOB), _attachment(0, rules)));
        vm.prank(owner);
        blocklist.setBlocked(BOB, true);
        bytes memory blocked = abi.encodeWithSelector(RecipientBlocklistPolicy.RecipientIsBlocked.selector, owner, BOB);
        _rejects(_ruledOp(id, _payCall(BOB), _attachment(0, rules)), _refused(id, 0, address(blocklist), blocked));
        // Another account's list is not this one's.
        vm.prank(alice);
        blocklist.setBlocked(alice, true);
        handleOp(_ruledOp(id, _payCall(alice), _attachment(0, rules)));
        vm.prank(owner);
        blocklist.setBlocked(BOB, false);
        handleOp(_ruledOp(id, _payCall(BOB), _attachment(0, rules)));
        vm.assertEq(target.pings(), 3, "calls made");
    }

    function test_aRevertingPolicyRefusesWithItsReason() public {
        RevertingPolicy policy = new RevertingPolicy();
        TestRule[] memory rules = _rules(_policy(address(policy), ""));
        bytes32 id = _sessionAsking(rules);
        _rejects(
            _ruledOp(id, _payCall(BOB), _attachment(0, rules)),
            _refused(id, 0, address(policy), abi.encodeWithSelector(RevertingPolicy.NotToday.selector, owner))
        );
    }

    function test_aPolicyThatBurnsItsGasRefusesAndValidationGoesOn() public {
        GasBurningPolicy policy = new GasBurningPolicy();
        TestRule[] memory rules = _rules(_policy(address(policy), ""));
        bytes32 id = _sessionAsking(rules);
        _rejects(_ruledOp(id, _payCall(BOB), _attachment(0, rules)), _refused(id, 0, address(policy), ""));
    }

    function test_aPolicysRevertDataIsCopiedOnlyUpToItsCap() public {
        RevertBombPolicy policy = new RevertBombPolicy();
        TestRule[] memory rules = _rules(_policy(address(policy), ""));
        bytes32 id = _sessionAsking(rules);
        bytes memory reason = new bytes(validator.POLICY_ANSWER_BYTES());
        reason[31] = 0x01;
        _rejects(_ruledOp(id, _payCall(BOB), _attachment(0, rules)), _refused(id, 0, address(policy), reason));
    }

    function test_aLongAnswerStartingWithTheSelectorAllows() public {
        LongAnswerPolicy policy = new LongAnswerPolicy();
        TestRule[] memory rules = _rules(_policy(address(policy), ""));
        bytes32 id = _sessionAsking(rules);
        handleOp(_ruledOp(id, _payCall(BOB), _attachment(0, rules)));
        vm.assertEq(target.pings(), 1, "the call made");
    }

    function test_aPolicyThatAnswersGarbageRefuses() public {
        GarbagePolicy policy = new GarbagePolicy();
        TestRule[] memory rules = _rules(_policy(address(policy), ""));
        bytes32 id = _sessionAsking(rules);
        _rejects(_ruledOp(id, _payCall(BOB), _attachment(0, rules)), _refused(id, 0, address(policy), ""));
    }

    function test_aPolicyWithoutCodeRefuses() public {
        address nobody = address(0xC0DE);
        TestRule[] memory rules = _rules(_policy(nobody, ""));
        bytes32 id = _sessionAsking(rules);
        _rejects(_ruledOp(id, _payCall(BOB), _attachment(0, rules)), _refused(id, 0, nobody, ""));
    }

    function test_thePolicyGetsItsConfigAndIsNamedByItsRuleIndex() public {
        ConfigEchoPolicy policy = new ConfigEchoPolicy();
        // Rule 0 bounds the amount; rule 1 asks the policy, which allows a call whose value is its
        // config.
        TestRule[] memory rules =
            _rules(_argument(1, RULE_OP_LTE, _words(5)), _policy(address(policy), abi.encode(uint256(1))));
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules), _native(ALLOWANCE))));
        address[] memory noTokens;
        bytes memory withValue = _checked(_single(address(target), 1, abi.encodeCall(Target.pay, (BOB, 1))), noTokens);
        handleOp(_ruledOp(id, withValue, _attachment(0, rules)));
        bytes memory without = _checked(_payCall(BOB), noTokens);
        _rejects(_ruledOp(id, without, _attachment(0, rules)), _refused(id, 1, address(policy), ""));
        vm.assertEq(target.pings(), 1, "one call made");
    }

    function test_malformedPolicyRulesAreInvalid() public {
        SessionGrant memory grant =
            _grant(_list(_ruledOn(address(target), Target.pay.selector, _rules(_policy(address(0), "")))));
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.InvalidRules.selector, validator.getSessionId(grant), 0)
        );
        grant = _grant(_list(_ruledOn(address(target), Target.pay.selector, _rules(_policy(BOB, new bytes(1025))))));
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.InvalidRules.selector, validator.getSessionId(grant), 0)
        );
    }
}
