// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {
    Rule,
    RULE_OP_EQ,
    RULE_OP_GT,
    RULE_OP_GTE,
    RULE_OP_IN_RANGE,
    RULE_OP_LT,
    RULE_OP_LTE,
    RULE_OP_NE,
    RULE_OP_ONE_OF,
    SessionGrant,
    SIG_FLAG_RULES,
    SIG_MODE_ENABLE,
    SIG_MODE_USE_ROOT
} from "../../../contracts/types/SessionTypes.sol";
import {Target} from "../../../contracts/test/Target.sol";
import {RuleBuilders} from "../utils/RuleBuilders.sol";

/// @notice Argument rules on function permissions (docs/permissions.md, "Rule data"): what each
///         allows and blocks, with the exact error, through the real EntryPoint.
contract ArgumentRulesTest is RuleBuilders {
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA201);
    address internal constant DAVE = address(0xDA7E);

    function _pay(address to, uint256 amount) internal view returns (bytes memory) {
        return abi.encodeCall(Target.pay, (to, amount));
    }

    /// @dev `pay(to, amount)` on the target, as the operation's only call.
    function _payCall(address to, uint256 amount) internal view returns (bytes memory) {
        return _single(address(target), 0, _pay(to, amount));
    }

    /// @dev The rules the gas snapshot measures too: the recipient is one of three, the amount is 7.
    function _recipientAndAmount() internal pure returns (TestRule[] memory) {
        return _rules(
            _argument(0, RULE_OP_ONE_OF, _words(uint160(BOB), uint160(CAROL), uint160(DAVE))),
            _argument(1, RULE_OP_EQ, _words(7))
        );
    }

    function _enableRuled(TestRule[] memory rules) internal returns (bytes32) {
        return _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules))));
    }

    /// @dev The words a call's set rules read are no combination the session allows.
    function _notAllowed(bytes32 id, bytes4 selector, uint256[] memory words) internal view returns (bytes memory) {
        return
            abi.encodeWithSelector(
                ISessionKeyValidator.ArgumentsNotAllowed.selector, id, address(target), selector, words
            );
    }

    function _list1(uint256 a) internal pure returns (uint256[] memory list) {
        list = new uint256[](1);
        list[0] = a;
    }

    function _list2(uint256 a, uint256 b) internal pure returns (uint256[] memory list) {
        list = new uint256[](2);
        (list[0], list[1]) = (a, b);
    }

    function _callRuleFailed(bytes32 id, bytes4 selector, uint256 ruleIndex, uint256 actual)
        internal
        view
        returns (bytes memory)
    {
        return abi.encodeWithSelector(
            ISessionKeyValidator.CallRuleFailed.selector, id, address(target), selector, ruleIndex, actual
        );
    }

    // ------------------------------------------------------------ allow and block

    function test_rulesThatHoldAllowTheCall() public {
        TestRule[] memory rules = _recipientAndAmount();
        bytes32 id = _enableRuled(rules);
        handleOp(_ruledOp(id, _payCall(CAROL, 7), _attachment(0, rules)));
        vm.assertEq(target.pings(), 1, "calls made");
    }

    function test_aRecipientOutsideTheSetIsRefusedWithTheWordsItRead() public {
        TestRule[] memory rules = _recipientAndAmount();
        bytes32 id = _enableRuled(rules);
        _rejects(
            _ruledOp(id, _payCall(alice, 7), _attachment(0, rules)),
            _notAllowed(id, Target.pay.selector, _list2(uint160(address(alice)), 7))
        );
        _rejects(
            _ruledOp(id, _payCall(BOB, 8), _attachment(0, rules)),
            _notAllowed(id, Target.pay.selector, _list2(uint160(BOB), 8))
        );
    }

    function test_rulesCombineWithAnd_theFailingRuleIsNamed() public {
        TestRule[] memory rules = _rules(
            _argument(0, RULE_OP_ONE_OF, _words(uint160(BOB), uint160(CAROL))), _argument(1, RULE_OP_LTE, _words(7))
        );
        bytes32 id = _enableRuled(rules);
        handleOp(_ruledOp(id, _payCall(CAROL, 7), _attachment(0, rules)));
        _rejects(_ruledOp(id, _payCall(BOB, 8), _attachment(0, rules)), _callRuleFailed(id, Target.pay.selector, 1, 8));
        // Both broken: the set's lookup speaks first.
        _rejects(
            _ruledOp(id, _payCall(DAVE, 8), _attachment(0, rules)),
            _notAllowed(id, Target.pay.selector, _list1(uint160(DAVE)))
        );
    }

    function test_permissionsOnOneFunctionCombineWithOr() public {
        TestRule[] memory toBob = _rules(_argument(0, RULE_OP_EQ, _words(uint160(BOB))));
        TestRule[] memory small = _rules(_argument(1, RULE_OP_LTE, _words(5)));
        bytes32 id = _enable(
            _grant(
                _list(
                    _ruledOn(address(target), Target.pay.selector, toBob),
                    _ruledOn(address(target), Target.pay.selector, small)
                )
            )
        );
        handleOp(_ruledOp(id, _payCall(BOB, 100), _attachment(0, toBob)));
        handleOp(_ruledOp(id, _payCall(alice, 5), _attachment(0, small)));
        vm.assertEq(target.pings(), 2, "calls made");
        // The rules named decide: the other alternative would have allowed it.
        _rejects(
            _ruledOp(id, _payCall(alice, 5), _attachment(0, toBob)),
            _notAllowed(id, Target.pay.selector, _list1(uint160(address(alice))))
        );
    }

    function test_aFunctionPermissionWithoutRulesAllowsTheCallOutright() public {
        TestRule[] memory rules = _recipientAndAmount();
        bytes32 id = _enable(
            _grant(
                _list(
                    _ruledOn(address(target), Target.pay.selector, rules),
                    _functionsOn(address(target), Target.pay.selector)
                )
            )
        );
        handleOp(_useOp(id, _payCall(alice, 1000)));
        vm.assertEq(target.pings(), 1, "calls made");
    }

    function test_aRuledFunctionCalledWithoutItsRulesIsNotAllowed() public {
        bytes32 id = _enableRuled(_recipientAndAmount());
        _rejects(
            _useOp(id, _payCall(BOB, 7)),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(target), Target.pay.selector
            )
        );
    }

    function test_rulesTheOwnerDidNotGrantFindNoScope() public {
        bytes32 id = _enableRuled(_recipientAndAmount());
        TestRule[] memory forgedSet = _rules(_argument(0, RULE_OP_EQ, _words(uint160(address(alice)))));
        _rejects(
            _ruledOp(id, _payCall(alice, 7), _attachment(0, forgedSet)),
            _notAllowed(id, Target.pay.selector, _list1(uint160(address(alice))))
        );
        TestRule[] memory forgedBound = _rules(_argument(1, RULE_OP_LT, _words(100)));
        _rejects(
            _ruledOp(id, _payCall(alice, 7), _attachment(0, forgedBound)),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(target), Target.pay.selector
            )
        );
    }

    function test_rulesOnAllContractsApplyToAnyTarget() public {
        TestRule[] memory rules = _rules(_argument(1, RULE_OP_LT, _words(10)));
        bytes32 id = _enable(_grant(_list(_ruledOnAll(Target.pay.selector, rules))));
        Target other = new Target();
        handleOp(_ruledOp(id, _single(address(other), 0, _pay(BOB, 9)), _attachment(0, rules)));
        vm.assertEq(other.pings(), 1, "calls made");
        _rejects(
            _ruledOp(id, _single(address(other), 0, _pay(BOB, 10)), _attachment(0, rules)),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallRuleFailed.selector, id, address(other), Target.pay.selector, 0, 10
            )
        );
    }

    // ------------------------------------------------------------ boundaries of each operator

    function test_eachOperatorAtItsBoundary() public {
        _boundary(RULE_OP_NE, _words(50), 51, 50);
        _boundary(RULE_OP_GT, _words(50), 51, 50);
        _boundary(RULE_OP_GTE, _words(50), 50, 49);
        _boundary(RULE_OP_LT, _words(50), 49, 50);
        _boundary(RULE_OP_LTE, _words(50), 50, 51);
        _boundary(RULE_OP_IN_RANGE, _words(40, 50), 40, 39);
        _boundary(RULE_OP_IN_RANGE, _words(40, 50), 50, 51);
    }

    /// @dev A fresh session with one rule on `pay`'s amount: `allowed` passes, `refused` fails.
    function _boundary(uint8 op, bytes32[] memory values, uint256 allowed, uint256 refused) internal {
        TestRule[] memory rules = _rules(_argument(1, op, values));
        SessionGrant memory grant = _grant(_list(_ruledOn(address(target), Target.pay.selector, rules)));
        grant.salt = uint256(keccak256(abi.encode(op, allowed)));
        bytes32 id = _enable(grant);
        handleOp(_ruledOp(id, _payCall(BOB, allowed), _attachment(0, rules)));
        _rejects(
            _ruledOp(id, _payCall(BOB, refused), _attachment(0, rules)),
            _callRuleFailed(id, Target.pay.selector, 0, refused)
        );
    }

    function test_eachSetOperatorAtItsBoundary() public {
        _setBoundary(RULE_OP_EQ, _words(50), 50, 51);
        _setBoundary(RULE_OP_ONE_OF, _words(40, 50, 60), 60, 61);
        _setBoundary(RULE_OP_ONE_OF, _words(40, 50, 60), 40, 39);
    }

    function _setBoundary(uint8 op, bytes32[] memory values, uint256 allowed, uint256 refused) internal {
        TestRule[] memory rules = _rules(_argument(1, op, values));
        SessionGrant memory grant = _grant(_list(_ruledOn(address(target), Target.pay.selector, rules)));
        grant.salt = uint256(keccak256(abi.encode(op, allowed, refused)));
        bytes32 id = _enable(grant);
        handleOp(_ruledOp(id, _payCall(BOB, allowed), _attachment(0, rules)));
        _rejects(
            _ruledOp(id, _payCall(BOB, refused), _attachment(0, rules)),
            _notAllowed(id, Target.pay.selector, _list1(refused))
        );
    }

    function test_aValueLimitPerCall() public {
        TestRule[] memory rules = _rules(_callValue(1 ether));
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules), _native(ALLOWANCE))));
        // The session limits native value and the call has code: the balance-checked form.
        address[] memory noTokens;
        bytes memory paid = _checked(_single(address(target), 1 ether, _pay(BOB, 1)), noTokens);
        handleOp(_ruledOp(id, paid, _attachment(0, rules)));
        vm.assertEq(address(target).balance, 1 ether, "value sent");
        _rejects(
            _ruledOp(
                id, _checked(_single(address(target), 1 ether + 1, _pay(BOB, 1)), noTokens), _attachment(0, rules)
            ),
            _callRuleFailed(id, Target.pay.selector, 0, 1 ether + 1)
        );
    }

    // ------------------------------------------------------------ hostile calldata

    function test_dirtyUpperBitsAreADifferentWord() public {
        TestRule[] memory rules = _rules(_argument(0, RULE_OP_EQ, _words(uint160(BOB))));
        bytes32 id = _enableRuled(rules);
        uint256 dirty = uint256(1) << 200 | uint160(BOB);
        bytes memory data = abi.encodeWithSelector(Target.pay.selector, dirty, 1);
        _rejects(
            _ruledOp(id, _single(address(target), 0, data), _attachment(0, rules)),
            _notAllowed(id, Target.pay.selector, _list1(dirty))
        );
    }

    function test_shortCalldataIsOutOfRangeNeverZero() public {
        // LTE 5 would hold for a word read as zero.
        TestRule[] memory rules = _rules(_argument(1, RULE_OP_LTE, _words(5)));
        bytes32 id = _enableRuled(rules);
        bytes memory data = abi.encodeWithSelector(Target.pay.selector, BOB);
        _rejects(
            _ruledOp(id, _single(address(target), 0, data), _attachment(0, rules)),
            abi.encodeWithSelector(
                ISessionKeyValidator.ArgumentOutOfRange.selector, id, address(target), Target.pay.selector, 0, 36
            )
        );
    }

    function _route(uint256 amount, address[] memory path) internal view returns (bytes memory) {
        return _single(address(target), 0, abi.encodeCall(Target.route, (amount, path)));
    }

    function _path(address a) internal pure returns (address[] memory path) {
        path = new address[](1);
        path[0] = a;
    }

    /// @dev The first element of `route`'s path (argument 1, 32 bytes past its length word) is BOB.
    function _firstHopIsBob() internal pure returns (TestRule[] memory) {
        return _rules(_dynamicArgument(1, 32, RULE_OP_EQ, _words(uint160(BOB))));
    }

    function test_aWordInsideADynamicArgument() public {
        TestRule[] memory rules = _firstHopIsBob();
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.route.selector, rules))));
        handleOp(_ruledOp(id, _route(1, _path(BOB)), _attachment(0, rules)));
        vm.assertEq(target.pings(), 1, "calls made");
        _rejects(
            _ruledOp(id, _route(1, _path(CAROL)), _attachment(0, rules)),
            _notAllowed(id, Target.route.selector, _list1(uint160(CAROL)))
        );
    }

    function test_aDynamicWordPastTheDataIsOutOfRange() public {
        TestRule[] memory rules = _firstHopIsBob();
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.route.selector, rules))));
        // An empty path: the length word ends the data, the first element is not there.
        _rejects(
            _ruledOp(id, _route(1, new address[](0)), _attachment(0, rules)),
            abi.encodeWithSelector(
                ISessionKeyValidator.ArgumentOutOfRange.selector, id, address(target), Target.route.selector, 0, 100
            )
        );
    }

    function test_aDynamicOffsetPointingOutOfRange() public {
        TestRule[] memory rules = _firstHopIsBob();
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.route.selector, rules))));
        for (uint256 i; i < 2; ++i) {
            // Past the data, and past 2**32 (where a sum could wrap).
            uint256 head = i == 0 ? 0x1000 : type(uint256).max - 3;
            bytes memory data = abi.encodePacked(Target.route.selector, uint256(1), head, uint256(1), uint160(BOB));
            _rejects(
                _ruledOp(id, _single(address(target), 0, data), _attachment(0, rules)),
                abi.encodeWithSelector(
                    ISessionKeyValidator.ArgumentOutOfRange.selector,
                    id,
                    address(target),
                    Target.route.selector,
                    0,
                    data.length
                )
            );
        }
    }

    // ------------------------------------------------------------ attachments

    /// @dev `pay` under `rules`, and `ping` under a plain permission.
    function _enableRuledWithPing(TestRule[] memory rules) internal returns (bytes32) {
        return _enable(
            _grant(
                _list(
                    _ruledOn(address(target), Target.pay.selector, rules),
                    _functionsOn(address(target), Target.ping.selector)
                )
            )
        );
    }

    function test_batchesAttachRulesByCallIndex() public {
        TestRule[] memory rules = _recipientAndAmount();
        bytes32 id = _enableRuledWithPing(rules);
        Execution[] memory executions = new Execution[](3);
        executions[0] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        executions[1] = Execution(address(target), 0, _pay(BOB, 7));
        executions[2] = Execution(address(target), 0, _pay(DAVE, 7));
        handleOp(_ruledOp(id, _batch(executions), abi.encodePacked(_attachment(1, rules), _attachment(2, rules))));
        vm.assertEq(target.pings(), 3, "calls made");
    }

    function test_anAttachmentLeftOverIsRefused() public {
        TestRule[] memory rules = _recipientAndAmount();
        bytes32 id = _enableRuled(rules);
        bytes memory unused = abi.encodeWithSelector(ISessionKeyValidator.UnusedRuleAttachment.selector, id, 1);
        _rejects(_ruledOp(id, _payCall(BOB, 7), abi.encodePacked(_attachment(0, rules), _attachment(1, rules))), unused);
    }

    function test_attachmentsOutOfOrderAreLeftOver() public {
        TestRule[] memory rules = _recipientAndAmount();
        bytes32 id = _enableRuledWithPing(rules);
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        executions[1] = Execution(address(target), 0, _pay(BOB, 7));
        _rejects(
            _ruledOp(id, _batch(executions), abi.encodePacked(_attachment(1, rules), _attachment(0, rules))),
            abi.encodeWithSelector(ISessionKeyValidator.UnusedRuleAttachment.selector, id, 0)
        );
    }

    function test_anAttachmentOnAnErc20SpendIsRefused() public {
        TestRule[] memory rules = _recipientAndAmount();
        bytes32 id =
            _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules), _erc20(address(token), 1))));
        _rejects(
            _ruledOp(id, _transfer(BOB, 1), _attachment(0, rules)),
            abi.encodeWithSelector(ISessionKeyValidator.UnusedRuleAttachment.selector, id, 0)
        );
    }

    function test_attachmentsThatDoNotParseFailTheSignature() public {
        TestRule[] memory rules = _recipientAndAmount();
        bytes32 id = _enableRuled(rules);
        PackedUserOperation memory userOp = _ruledOp(id, _payCall(BOB, 7), _attachment(0, rules));
        // One byte cut from the last attachment, the trailer adjusted: its length overruns.
        bytes memory attachments = _attachment(0, rules);
        bytes memory cut = new bytes(attachments.length - 1);
        for (uint256 i; i < cut.length; ++i) {
            cut[i] = attachments[i];
        }
        userOp = _ruledOp(id, _payCall(BOB, 7), cut);
        _failsSignature(userOp);
    }

    function test_rootTakesNoRules() public {
        bytes32 id = _enable(_grant(_list(_root())));
        PackedUserOperation memory userOp = _useOp(id, _payCall(BOB, 7), SESSION_KEY, true);
        userOp.signature =
            abi.encodePacked(SIG_MODE_USE_ROOT | SIG_FLAG_RULES, id, _keySignature(userOp, SESSION_KEY), uint16(0));
        _failsSignature(userOp);
    }

    function test_theLazyFormCarriesRulesToo() public {
        TestRule[] memory rules = _recipientAndAmount();
        SessionGrant memory grant = _grant(_list(_ruledOn(address(target), Target.pay.selector, rules)));
        PackedUserOperation memory userOp =
            buildUserOp(owner, _sessionNonceKey(validator.getSessionId(grant)), _payCall(DAVE, 7));
        bytes memory attachments = _attachment(0, rules);
        userOp.signature = abi.encodePacked(
            SIG_MODE_ENABLE | SIG_FLAG_RULES,
            abi.encode(grant, _ownerSignature(grant), _keySignature(userOp, SESSION_KEY)),
            attachments,
            uint16(attachments.length)
        );
        handleOp(userOp);
        vm.assertEq(target.pings(), 1, "calls made");
    }

    function test_aWrongKeyWithRulesThatHoldFailsTheSignature() public {
        TestRule[] memory rules = _recipientAndAmount();
        bytes32 id = _enableRuled(rules);
        PackedUserOperation memory userOp = _ruledOp(id, _payCall(BOB, 7), _attachment(0, rules));
        bytes memory wrong = _keySignature(userOp, 0xBAD);
        for (uint256 i; i < 65; ++i) {
            userOp.signature[33 + i] = wrong[i];
        }
        _failsSignature(userOp);
    }

    function test_revokingClearsTheRuledScopes() public {
        TestRule[] memory rules = _recipientAndAmount();
        SessionGrant memory grant = _grant(_list(_ruledOn(address(target), Target.pay.selector, rules)));
        bytes32 id = _enable(grant);
        vm.prank(owner);
        validator.revokeSession(grant);
        _failsSignature(_ruledOp(id, _payCall(BOB, 7), _attachment(0, rules)));
    }

    // ------------------------------------------------------------ grants the validator refuses

    function _refusedWith(bytes memory rules, bytes4 error) internal {
        SessionGrant memory grant = _grant(_list(_functionsOn(address(target), Target.pay.selector)));
        grant.permissions[0].rules = rules;
        _enableReverts(grant, abi.encodeWithSelector(error, validator.getSessionId(grant), 0));
    }

    function test_rulesOfAKindNotBuiltOrAnUnknownVersionAreUnsupported() public {
        Rule[] memory periodic = new Rule[](1);
        periodic[0] = Rule(2, abi.encode(uint48(1 days)));
        _refusedWith(abi.encodePacked(uint8(1), abi.encode(periodic)), ISessionKeyValidator.UnsupportedRules.selector);
        _refusedWith(
            abi.encodePacked(uint8(2), abi.encode(new Rule[](0))), ISessionKeyValidator.UnsupportedRules.selector
        );
    }

    function test_rulesOnATypeThatTakesNoneAreUnsupported() public {
        SessionGrant memory grant = _grant(_list(_erc20(address(token), 1)));
        grant.permissions[0].rules = _rulesField(_recipientAndAmount());
        bytes memory refused =
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedRules.selector, validator.getSessionId(grant), 0);
        _enableReverts(grant, refused);
        _rejects(_enableOp(grant, _transfer(BOB, 1)), refused);
    }

    function test_malformedRulesAreInvalid() public {
        bytes4 invalid = ISessionKeyValidator.InvalidRules.selector;
        _refusedWith(hex"01", invalid);
        _refusedWith(abi.encodePacked(uint8(1), abi.encode(new Rule[](0))), invalid);
        _refusedWith(_rulesField(_rules(_argument(0, 8, _words(1)))), invalid);
        _refusedWith(_rulesField(_rules(_argument(0, RULE_OP_EQ, _words(1, 2)))), invalid);
        _refusedWith(_rulesField(_rules(_argument(0, RULE_OP_ONE_OF, new bytes32[](0)))), invalid);
        _refusedWith(_rulesField(_rules(_argument(0, RULE_OP_ONE_OF, new bytes32[](33)))), invalid);
        _refusedWith(_rulesField(_rules(_argument(0, RULE_OP_IN_RANGE, _words(2, 1)))), invalid);
        TestRule[] memory seventeen = new TestRule[](17);
        for (uint256 i; i < 17; ++i) {
            seventeen[i] = _argument(0, RULE_OP_NE, _words(i));
        }
        _refusedWith(_rulesField(seventeen), invalid);
    }

    function test_theLargestSetAndRuleCountAreAccepted() public {
        TestRule[] memory sixteen = new TestRule[](16);
        bytes32[] memory thirtyTwo = new bytes32[](32);
        for (uint256 i; i < 32; ++i) {
            thirtyTwo[i] = bytes32(i);
        }
        sixteen[0] = _argument(1, RULE_OP_ONE_OF, thirtyTwo);
        for (uint256 i = 1; i < 16; ++i) {
            sixteen[i] = _argument(1, RULE_OP_NE, _words(1000 + i));
        }
        bytes32 id = _enableRuled(sixteen);
        handleOp(_ruledOp(id, _payCall(BOB, 31), _attachment(0, sixteen)));
        vm.assertEq(target.pings(), 1, "calls made");
    }

    function test_setsBeyondThirtyTwoCombinationsAreInvalid() public {
        bytes32[] memory seventeen = new bytes32[](17);
        for (uint256 i; i < 17; ++i) {
            seventeen[i] = bytes32(i);
        }
        _refusedWith(
            _rulesField(_rules(_argument(0, RULE_OP_ONE_OF, _words(1, 2)), _argument(1, RULE_OP_ONE_OF, seventeen))),
            ISessionKeyValidator.InvalidRules.selector
        );
    }

    function test_everyCombinationOfTwoSetsIsAllowed() public {
        TestRule[] memory rules = _rules(
            _argument(0, RULE_OP_ONE_OF, _words(uint160(BOB), uint160(CAROL))),
            _argument(1, RULE_OP_ONE_OF, _words(1, 2, 3))
        );
        bytes32 id = _enableRuled(rules);
        for (uint256 amount = 1; amount <= 3; ++amount) {
            handleOp(_ruledOp(id, _payCall(BOB, amount), _attachment(0, rules)));
            handleOp(_ruledOp(id, _payCall(CAROL, amount), _attachment(0, rules)));
        }
        vm.assertEq(target.pings(), 6, "calls made");
        _rejects(
            _ruledOp(id, _payCall(CAROL, 4), _attachment(0, rules)),
            _notAllowed(id, Target.pay.selector, _list2(uint160(CAROL), 4))
        );
    }

    // ------------------------------------------------------------ a reference model

    /// @dev The operator table of docs/permissions.md, written out on its own.
    function _model(uint8 op, uint256 word, uint256 v0, uint256 v1) internal pure returns (bool) {
        if (op == RULE_OP_EQ) return word == v0;
        if (op == RULE_OP_NE) return word != v0;
        if (op == RULE_OP_GT) return word > v0;
        if (op == RULE_OP_GTE) return word >= v0;
        if (op == RULE_OP_LT) return word < v0;
        if (op == RULE_OP_LTE) return word <= v0;
        if (op == RULE_OP_ONE_OF) return word == v0 || word == v1;
        return v0 <= word && word <= v1;
    }

    /// forge-config: default.fuzz.runs = 512
    function testFuzz_everyOperatorAgreesWithTheModel(uint8 opSeed, uint256 word, uint256 v0, uint256 v1) public {
        uint8 op = opSeed % 8;
        // Values near the bounds, so that boundaries are hit often.
        if (opSeed & 0x80 != 0) word = v0 + (opSeed & 1);
        if (op == RULE_OP_IN_RANGE && v0 > v1) (v0, v1) = (v1, v0);
        bytes32[] memory values = op >= RULE_OP_ONE_OF ? _words(v0, v1) : _words(v0);
        TestRule[] memory rules = _rules(_argument(1, op, values));
        bytes32 id = _enableRuled(rules);
        PackedUserOperation memory userOp = _ruledOp(id, _payCall(BOB, word), _attachment(0, rules));
        if (_model(op, word, v0, v1)) {
            handleOp(userOp);
            vm.assertEq(target.pings(), 1, "calls made");
        } else {
            if (op == RULE_OP_EQ || op == RULE_OP_ONE_OF) {
                _rejects(userOp, _notAllowed(id, Target.pay.selector, _list1(word)));
            } else {
                _rejects(userOp, _callRuleFailed(id, Target.pay.selector, 0, word));
            }
        }
    }

    /// forge-config: default.fuzz.runs = 256
    function testFuzz_aStaticRuleOnAnyIndexReadsThatWordOrIsOutOfRange(uint8 index, bytes calldata args) public {
        vm.assume(args.length < 600);
        TestRule[] memory rules = _rules(_argument(index, RULE_OP_EQ, _words(0)));
        bytes32 id = _enable(_grant(_list(_ruledOnAll(Target.ping.selector, rules))));
        bytes memory data = abi.encodePacked(Target.ping.selector, args);
        PackedUserOperation memory userOp = _ruledOp(id, _single(address(target), 0, data), _attachment(0, rules));
        uint256 position = 4 + uint256(index) * 32;
        if (position + 32 > data.length) {
            _rejects(
                userOp,
                abi.encodeWithSelector(
                    ISessionKeyValidator.ArgumentOutOfRange.selector,
                    id,
                    address(target),
                    Target.ping.selector,
                    0,
                    data.length
                )
            );
            return;
        }
        uint256 word = uint256(bytes32(args[position - 4:position + 28]));
        if (word == 0) {
            handleOp(userOp);
        } else {
            _rejects(userOp, _notAllowed(id, Target.ping.selector, _list1(word)));
        }
    }
}
