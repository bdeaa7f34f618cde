// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {MODULE_TYPE_VALIDATOR} from "../../../contracts/interfaces/IERC7579Module.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {
    Permission,
    PermissionType,
    SessionGrant,
    SIGNER_P256,
    SIGNER_SECP256K1
} from "../../../contracts/types/SessionTypes.sol";
import {TypedDataApp} from "../../../contracts/test/TypedDataApp.sol";
import {TypedDataBuilders} from "../utils/TypedDataBuilders.sol";

/// @notice Session keys signing as their account (ERC-1271, nested as ERC-7739 nests it): typed data
///         of an app the grant names, only during the session's own balance-checked operation, so
///         that what the signature moves is charged to the session's limits; personal messages at any
///         time within the window. A signature made for one account verifies on no other.
contract SessionMessagesTest is TypedDataBuilders {
    bytes4 internal constant MAGIC = 0x1626ba7e;
    bytes4 internal constant NO = 0xffffffff;
    uint256 internal constant OTHER_OWNER_KEY = 0xB0B0;
    uint256 internal constant AMOUNT = 1 ether;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    // ------------------------------------------------------------ builders

    function _personalSign() internal pure returns (Permission memory) {
        return _permission(PermissionType.PersonalSign, address(0), 0, new bytes4[](0));
    }

    function _eip191(bytes memory message) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n", vm.toString(message.length), message));
    }

    /// @dev The account's ERC-1271 signature by session `sessionId`'s key of `kind` of the personal
    ///      message whose EIP-191 hash is `hash` (ERC-7739 PersonalSign).
    function _personalSignature(uint8 kind, bytes32 sessionId, address account_, bytes32 hash)
        internal
        view
        returns (bytes memory)
    {
        bytes32 separator = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("LeashAccount"), keccak256("1"), block.chainid, account_)
        );
        bytes32 structHash = keccak256(abi.encode(keccak256("PersonalSign(bytes prefixed)"), hash));
        bytes memory keySignature = _signAs(kind, keccak256(abi.encodePacked("\x19\x01", separator, structHash)));
        return
            abi.encodePacked(address(validator), _mode(kind, 1), sessionId, uint16(keySignature.length), keySignature);
    }

    // ------------------------------------------------------------ typed data

    function test_typedData_holdsDuringTheSessionsOwnOperation() public {
        uint8[6] memory kinds = _kinds();
        for (uint256 i; i < kinds.length; ++i) {
            bytes32 id = _pullSession(kinds[i], i);
            uint256 before = token.balanceOf(recipient);
            handleOp(_pullOp(kinds[i], id, AMOUNT, i, _pullSignature(kinds[i], id, app, AMOUNT, i)));
            vm.assertEq(token.balanceOf(recipient), before + AMOUNT, "pulled");
            vm.assertEq(
                validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)),
                ALLOWANCE - AMOUNT,
                "charged to the allowance"
            );
        }
    }

    function test_typedData_whatItMovesIsChargedToTheAllowance() public {
        bytes32 id = _pullSession(SIGNER_SECP256K1, 0);
        bytes memory signature = _pullSignature(SIGNER_SECP256K1, id, app, ALLOWANCE + 1, 0);
        bytes memory reason = _executionRevert(_pullOp(SIGNER_SECP256K1, id, ALLOWANCE + 1, 0, signature));
        vm.assertEq(
            reason,
            abi.encodeWithSelector(
                ISessionKeyValidator.OutflowExceeded.selector, id, address(token), ALLOWANCE + 1, ALLOWANCE
            ),
            "the outflow is refused"
        );
        vm.assertEq(token.balanceOf(recipient), 0, "nothing moved");
    }

    function test_typedData_voidOutsideAnOperation() public {
        bytes32 id = _pullSession(SIGNER_SECP256K1, 0);
        bytes memory signature = _pullSignature(SIGNER_SECP256K1, id, app, AMOUNT, 0);
        bytes32 hash = app.hashOf(address(token), AMOUNT, recipient, 0);
        vm.assertEq(uint32(account.isValidSignature(hash, signature)), uint32(NO), "no operation executes");
        // A third party cannot use it either.
        vm.expectRevert(abi.encodeWithSelector(TypedDataApp.BadSignature.selector, owner, hash));
        app.pull(owner, address(token), AMOUNT, recipient, 0, signature);
    }

    function test_typedData_voidDuringAnotherSessionsOperation() public {
        bytes32 first = _pullSession(SIGNER_SECP256K1, 0);
        bytes32 second = _pullSession(SIGNER_P256, 1);
        // The second session's signature, used in the first session's operation.
        bytes memory signature = _pullSignature(SIGNER_P256, second, app, AMOUNT, 0);
        bytes32 hash = app.hashOf(address(token), AMOUNT, recipient, 0);
        bytes memory reason = _executionRevert(_pullOp(SIGNER_SECP256K1, first, AMOUNT, 0, signature));
        vm.assertEq(reason, abi.encodeWithSelector(TypedDataApp.BadSignature.selector, owner, hash), "refused");
    }

    function test_typedData_anotherAppIsRefused() public {
        bytes32 id = _pullSession(SIGNER_SECP256K1, 0);
        TypedDataApp other = new TypedDataApp();
        vm.prank(owner);
        token.approve(address(other), type(uint256).max);
        // Signed for the other app, whose typed data the grant does not name.
        bytes memory signature = _pullSignature(SIGNER_SECP256K1, id, other, AMOUNT, 0);
        (bytes32 sessionId, address signer, bool valid, bool typed, address domain) = validator.MESSAGES()
            .check(owner, other.hashOf(address(token), AMOUNT, recipient, 0), _withoutPrefix(signature));
        vm.assertEq(sessionId, id, "the session");
        vm.assertEq(signer, _idOf(SIGNER_SECP256K1), "its key");
        vm.assertTrue(valid && typed, "a valid typed-data signature");
        vm.assertEq(domain, address(other), "for the other app");
        // The grant lets the session call the first app only; a call to the second is refused in validation.
        bytes memory call = abi.encodeCall(TypedDataApp.pull, (owner, address(token), AMOUNT, recipient, 0, signature));
        _rejects(
            _useOpAs(SIGNER_SECP256K1, id, _checked(_single(address(other), 0, call), _tokens(address(token)))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(other), TypedDataApp.pull.selector
            )
        );
    }

    function test_typedData_withoutThePermissionIsRefused() public {
        SessionGrant memory grant = _grantTo(
            _idOf(SIGNER_SECP256K1),
            _list(_erc20(address(token), ALLOWANCE), _functionsOn(address(app), TypedDataApp.pull.selector))
        );
        bytes32 id = _enable(grant);
        bytes memory signature = _pullSignature(SIGNER_SECP256K1, id, app, AMOUNT, 0);
        bytes32 hash = app.hashOf(address(token), AMOUNT, recipient, 0);
        bytes memory reason = _executionRevert(_pullOp(SIGNER_SECP256K1, id, AMOUNT, 0, signature));
        vm.assertEq(reason, abi.encodeWithSelector(TypedDataApp.BadSignature.selector, owner, hash), "refused");
    }

    function test_typedData_doesNotVerifyForAnotherAccount() public {
        bytes32 id = _pullSession(SIGNER_SECP256K1, 0);
        bytes memory signature = _withoutPrefix(_pullSignature(SIGNER_SECP256K1, id, app, AMOUNT, 0));
        bytes32 hash = app.hashOf(address(token), AMOUNT, recipient, 0);
        address other = _otherAccount();
        (,, bool valid,,) = validator.MESSAGES().check(owner, hash, signature);
        vm.assertTrue(valid, "for its account");
        (, address signer,,,) = validator.MESSAGES().check(other, hash, signature);
        vm.assertNotEq(bytes32(bytes20(signer)), bytes32(bytes20(_idOf(SIGNER_SECP256K1))), "another digest");
    }

    function test_typedData_malformedIsRefused() public view {
        bytes32 id = bytes32(uint256(1));
        bytes memory good = _withoutPrefix(_pullSignature(SIGNER_SECP256K1, id, app, AMOUNT, 0));
        bytes32 hash = app.hashOf(address(token), AMOUNT, recipient, 0);
        (,, bool valid,,) = validator.MESSAGES().check(owner, hash, good);
        vm.assertTrue(valid, "the well-formed signature");
        // Another hash than the app's hash of the contents.
        (,, valid,,) = validator.MESSAGES().check(owner, bytes32(uint256(hash) ^ 1), good);
        vm.assertFalse(valid, "hash");
        // A domain without its verifying contract, or with a field the tail lacks.
        bytes memory noContract = bytes.concat(good);
        noContract[35 + 65] = bytes1(uint8(0x07));
        (,, valid,,) = validator.MESSAGES().check(owner, hash, noContract);
        vm.assertFalse(valid, "no verifying contract");
        bytes memory withSalt = bytes.concat(good);
        withSalt[35 + 65] = bytes1(uint8(0x1f));
        (,, valid,,) = validator.MESSAGES().check(owner, hash, withSalt);
        vm.assertFalse(valid, "a salt the tail does not carry");
        // A truncated tail, and an unknown form.
        (,, valid,,) = validator.MESSAGES().check(owner, hash, _slice(good, 0, good.length - 1));
        vm.assertFalse(valid, "truncated");
        bytes memory form2 = bytes.concat(good);
        form2[0] = bytes1(uint8(2));
        (,, valid,,) = validator.MESSAGES().check(owner, hash, form2);
        vm.assertFalse(valid, "form 2");
    }

    function test_typedData_contentsNameRules() public view {
        string[5] memory bad = ["pull(uint256 a)", "(uint256 a)", "Pu ll(uint256 a)", "Pu,ll(uint256 a)", "Pull"];
        for (uint256 i; i < bad.length; ++i) {
            (,, bool valid,,) = validator.MESSAGES().check(owner, bytes32(0), _withContentsType(bad[i]));
            vm.assertFalse(valid, bad[i]);
        }
    }

    /// @dev A well-framed signature whose contents type is `contentsType` (and whose hash is whatever
    ///      its contents make): only the name rules can refuse it.
    function _withContentsType(string memory contentsType) internal view returns (bytes memory) {
        return abi.encodePacked(
            _mode(SIGNER_SECP256K1, 0),
            bytes32(uint256(1)),
            uint16(0),
            uint8(0x0f),
            keccak256("TypedDataApp"),
            keccak256("1"),
            block.chainid,
            uint256(uint160(address(app))),
            bytes32(0),
            contentsType,
            uint16(bytes(contentsType).length)
        );
    }

    function test_typedDataSigning_allowsNoCall() public {
        SessionGrant memory grant = _grantTo(
            _idOf(SIGNER_SECP256K1), _list(_erc20(address(token), ALLOWANCE), _typedDataSigning(address(app)))
        );
        bytes32 id = _enable(grant);
        bytes memory call = abi.encodeCall(TypedDataApp.pull, (owner, address(token), AMOUNT, recipient, 0, ""));
        _rejects(
            _useOpAs(SIGNER_SECP256K1, id, _checked(_single(address(app), 0, call), _tokens(address(token)))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(app), TypedDataApp.pull.selector
            )
        );
    }

    function test_signingPermissionShapes() public {
        SessionGrant memory grant = _grantTo(_idOf(SIGNER_SECP256K1), _list(_typedDataSigning(address(0))));
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.InvalidPermission.selector, _idOfGrant(grant), 0)
        );
        grant = _grantTo(_idOf(SIGNER_SECP256K1), _list(_typedDataSigning(owner)));
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.InvalidPermission.selector, _idOfGrant(grant), 0)
        );
        grant = _grantTo(
            _idOf(SIGNER_SECP256K1), _list(_permission(PermissionType.PersonalSign, address(app), 0, new bytes4[](0)))
        );
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.InvalidPermission.selector, _idOfGrant(grant), 0)
        );
        grant = _grantTo(_idOf(SIGNER_SECP256K1), _list(_personalSign()));
        grant.permissions[0].rules = hex"01";
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.UnsupportedRules.selector, _idOfGrant(grant), 0)
        );
    }

    function _idOfGrant(SessionGrant memory grant) internal view returns (bytes32) {
        return validator.getSessionId(grant);
    }

    // ------------------------------------------------------------ personal messages

    function _personalSession(uint8 kind, uint256 salt) internal returns (bytes32) {
        SessionGrant memory grant = _grantTo(_idOf(kind), _list(_personalSign()));
        grant.salt = salt;
        return _enable(grant);
    }

    function test_personal_everyKindSignsALogin() public {
        bytes32 hash = _eip191("leash.test wants you to sign in with your Ethereum account");
        uint8[6] memory kinds = _kinds();
        for (uint256 i; i < kinds.length; ++i) {
            bytes32 id = _personalSession(kinds[i], i);
            bytes memory signature = _personalSignature(kinds[i], id, owner, hash);
            vm.assertEq(uint32(account.isValidSignature(hash, signature)), uint32(MAGIC), "a login");
            vm.assertEq(
                uint32(account.isValidSignature(bytes32(uint256(hash) ^ 1), signature)), uint32(NO), "another message"
            );
        }
    }

    function test_personal_withoutThePermissionIsRefused() public {
        bytes32 hash = _eip191("hello");
        bytes32 id = _enable(_grantTo(_idOf(SIGNER_SECP256K1), _list(_erc20(address(token), ALLOWANCE))));
        vm.assertEq(
            uint32(account.isValidSignature(hash, _personalSignature(SIGNER_SECP256K1, id, owner, hash))),
            uint32(NO),
            "no personal-sign"
        );
    }

    function test_personal_onlyWithinTheWindowAndWhileLive() public {
        bytes32 hash = _eip191("hello");
        bytes32 id = _personalSession(SIGNER_SECP256K1, 0);
        bytes memory signature = _personalSignature(SIGNER_SECP256K1, id, owner, hash);
        vm.assertEq(uint32(account.isValidSignature(hash, signature)), uint32(MAGIC), "live");
        uint256 snapshot = vm.snapshotState();
        vm.warp(block.timestamp + 1 days + 1);
        vm.assertEq(uint32(account.isValidSignature(hash, signature)), uint32(NO), "expired");
        vm.revertToState(snapshot);
        vm.prank(owner);
        validator.revokeAllSessions();
        vm.assertEq(uint32(account.isValidSignature(hash, signature)), uint32(NO), "revoked");
    }

    function test_personal_doesNotVerifyOnAnotherAccount() public {
        bytes32 hash = _eip191("hello");
        address other = _otherAccount();
        // The same key holds a personal-sign session on both accounts.
        SessionGrant memory grant = _grantTo(_idOf(SIGNER_SECP256K1), _list(_personalSign()));
        grant.account = other;
        vm.prank(other);
        bytes32 otherId = validator.enableSession(grant);
        bytes memory signature = _personalSignature(SIGNER_SECP256K1, otherId, owner, hash);
        vm.assertEq(uint32(LeashAccount(payable(other)).isValidSignature(hash, signature)), uint32(NO), "nested");
        signature = _personalSignature(SIGNER_SECP256K1, otherId, other, hash);
        vm.assertEq(uint32(LeashAccount(payable(other)).isValidSignature(hash, signature)), uint32(MAGIC), "its own");
    }

    function test_personal_doesNotVerifyOnAnotherChain() public {
        bytes32 hash = _eip191("hello");
        bytes32 id = _personalSession(SIGNER_SECP256K1, 0);
        bytes memory signature = _personalSignature(SIGNER_SECP256K1, id, owner, hash);
        vm.chainId(block.chainid + 1);
        vm.assertEq(
            uint32(account.isValidSignature(hash, signature)), uint32(NO), "the account's domain names the chain"
        );
    }

    function test_personal_rootSignsNothing() public {
        bytes32 hash = _eip191("hello");
        bytes32 id = _enable(_grantTo(_idOf(SIGNER_SECP256K1), _list(_root())));
        vm.assertEq(
            uint32(account.isValidSignature(hash, _personalSignature(SIGNER_SECP256K1, id, owner, hash))),
            uint32(NO),
            "root holds no personal-sign"
        );
    }

    function test_personal_aValidatorNotInstalledIsRefused() public {
        bytes32 hash = _eip191("hello");
        bytes32 id = _personalSession(SIGNER_SECP256K1, 0);
        bytes memory signature = _personalSignature(SIGNER_SECP256K1, id, owner, hash);
        vm.prank(owner);
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        vm.assertEq(uint32(account.isValidSignature(hash, signature)), uint32(NO), "uninstalled");
    }

    function test_ownerSignatureStillVerifies() public view {
        bytes32 hash = keccak256("owner");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_KEY, hash);
        vm.assertEq(uint32(account.isValidSignature(hash, abi.encodePacked(r, s, v))), uint32(MAGIC), "owner");
        (v, r, s) = vm.sign(SESSION_KEY, hash);
        vm.assertEq(uint32(account.isValidSignature(hash, abi.encodePacked(r, s, v))), uint32(NO), "not the owner");
    }

    /// @dev No random session signature verifies, whatever its framing, and none reverts.
    function testFuzz_randomSignaturesNeverVerify(bytes32 hash, bytes calldata random) public {
        _personalSession(SIGNER_SECP256K1, 0);
        bytes memory signature = abi.encodePacked(address(validator), random);
        vm.assertEq(uint32(account.isValidSignature(hash, signature)), uint32(NO), "random");
    }

    // ------------------------------------------------------------ helpers

    function _otherAccount() internal returns (address other) {
        other = vm.addr(OTHER_OWNER_KEY);
        delegate(OTHER_OWNER_KEY, address(leashImplementation));
        vm.prank(other);
        LeashAccount(payable(other)).installModule(MODULE_TYPE_VALIDATOR, address(validator), "");
    }

    /// @dev The session signature without the account's 20-byte validator prefix: what
    ///      `SessionMessages` reads.
    function _withoutPrefix(bytes memory signature) internal pure returns (bytes memory) {
        return _slice(signature, 20, signature.length);
    }

    function _slice(bytes memory data, uint256 from, uint256 to) internal pure returns (bytes memory out) {
        out = new bytes(to - from);
        for (uint256 i; i < out.length; ++i) {
            out[i] = data[from + i];
        }
    }
}
