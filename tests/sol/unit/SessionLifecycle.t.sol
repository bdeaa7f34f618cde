// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {ILeashAccount} from "../../../contracts/interfaces/ILeashAccount.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {MODULE_TYPE_VALIDATOR} from "../../../contracts/interfaces/IERC7579Module.sol";
import {
    PERMISSION_TYPEHASH,
    Permission,
    PermissionType,
    SESSION_GRANT_TYPEHASH,
    SessionGrant,
    SessionStatus
} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Target} from "../../../contracts/test/Target.sol";

/// @notice Enabling (owner and lazy), revocation, validity windows, replay, grant checks, module
///         install/uninstall, and the EIP-712 session id.
contract SessionLifecycleTest is SessionTestBase {
    uint256 internal constant OTHER_OWNER_KEY = 0xB0B0;

    function _status(bytes32 id) internal view returns (SessionStatus status) {
        (status,,) = validator.getSession(owner, id);
    }

    // ------------------------------------------------------------ session id

    function test_sessionIdIsTheEip712DigestOfTheGrant() public view {
        SessionGrant memory grant = _grantWithLimits();
        // Rule data is hashed as EIP-712 `bytes`, whether or not this validator enforces it.
        grant.permissions[1].rules = hex"01000000000000000000000000000000000000000000000000000000000000000000deadbeef";
        bytes32[] memory permissionHashes = new bytes32[](grant.permissions.length);
        for (uint256 i; i < permissionHashes.length; ++i) {
            permissionHashes[i] = keccak256(
                abi.encode(
                    PERMISSION_TYPEHASH,
                    uint8(grant.permissions[i].permissionType),
                    grant.permissions[i].target,
                    grant.permissions[i].amount,
                    keccak256(abi.encodePacked(grant.permissions[i].functions)),
                    keccak256(grant.permissions[i].rules)
                )
            );
        }
        bytes32 structHash = keccak256(
            abi.encode(
                SESSION_GRANT_TYPEHASH,
                grant.account,
                grant.sessionKey,
                grant.validAfter,
                grant.validUntil,
                grant.salt,
                keccak256(abi.encodePacked(permissionHashes))
            )
        );
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("LeashSessionKeyValidator"),
                keccak256("2"),
                block.chainid,
                address(validator)
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
        vm.assertEq(validator.getSessionId(grant), digest, "session id");
    }

    function test_rulesChangeTheSessionId() public view {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 without = validator.getSessionId(grant);
        grant.permissions[0].rules = hex"00";
        vm.assertNotEq(validator.getSessionId(grant), without, "one byte of rules is another grant");
    }

    function test_typeHashesMatchTheirTypeStrings() public pure {
        vm.assertEq(
            PERMISSION_TYPEHASH,
            keccak256("Permission(uint8 permissionType,address target,uint256 amount,bytes4[] functions,bytes rules)"),
            "permission"
        );
        vm.assertEq(
            SESSION_GRANT_TYPEHASH,
            keccak256(
                "SessionGrant(address account,address sessionKey,uint48 validAfter,uint48 validUntil,uint256 salt,Permission[] permissions)Permission(uint8 permissionType,address target,uint256 amount,bytes4[] functions,bytes rules)"
            ),
            "grant"
        );
    }

    // ------------------------------------------------------------ enabling

    function test_ownerEnableThenUse() public {
        bytes32 id = _enable(_grantWithLimits());
        (SessionStatus status, address key, uint256 epoch) = validator.getSession(owner, id);
        vm.assertEq(uint256(status), uint256(SessionStatus.Enabled), "enabled");
        vm.assertEq(key, sessionSigner, "key");
        vm.assertEq(epoch, 0, "epoch");
        handleOp(_useOp(id, _ping()));
        vm.assertEq(target.pings(), 1, "used");
    }

    function test_lazyEnableEnablesAndUsesInOneOperation() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = validator.getSessionId(grant);
        handleOp(_enableOp(grant, _transfer(alice, 1 ether)));
        vm.assertEq(uint256(_status(id)), uint256(SessionStatus.Enabled), "enabled");
        vm.assertEq(token.balanceOf(alice), 1 ether, "used");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)),
            ALLOWANCE - 1 ether,
            "spent"
        );
        // Later operations use the short form.
        handleOp(_useOp(id, _ping()));
        vm.assertEq(target.pings(), 1, "short form");
    }

    /// @dev Both paths must write the very same validator storage: compare every written slot.
    function test_ownerAndLazyEnableEndInIdenticalState() public {
        // Sponsored, so that the lazy operation charges no `GasLimit`.
        SessionGrant memory grant = _grant(
            _list(
                _erc20(address(token), ALLOWANCE),
                _native(ALLOWANCE),
                _functionsOn(address(target), Target.ping.selector),
                _paymaster(address(sponsor))
            )
        );
        uint256 snapshot = vm.snapshotState();
        vm.record();
        _enable(grant);
        (, bytes32[] memory written) = vm.accesses(address(validator));
        bytes32[] memory ownerValues = new bytes32[](written.length);
        for (uint256 i; i < written.length; ++i) {
            ownerValues[i] = vm.load(address(validator), written[i]);
        }
        vm.revertToState(snapshot);

        // The lazy operation pings, which spends nothing, so the enable is all it writes.
        PackedUserOperation memory userOp = _enableOp(grant, _ping(), address(sponsor));
        vm.record();
        handleOp(userOp);
        (, bytes32[] memory lazyWritten) = vm.accesses(address(validator));
        vm.assertEq(lazyWritten.length, written.length, "same number of writes");
        for (uint256 i; i < written.length; ++i) {
            vm.assertEq(vm.load(address(validator), written[i]), ownerValues[i], "same value in every slot");
        }
        vm.assertEq(target.pings(), 1, "lazy operation executed");
    }

    function test_lazyEnableOfAnEnabledGrantJustUsesIt() public {
        SessionGrant memory grant = _grantWithLimits();
        _enable(grant);
        handleOp(_enableOp(grant, _ping()));
        vm.assertEq(target.pings(), 1, "used");
    }

    function test_enablingTwiceReverts() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = _enable(grant);
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.SessionNotUnused.selector, id, SessionStatus.Enabled)
        );
    }

    function test_lazyEnableWithBadOwnerSignatureFails() public {
        SessionGrant memory grant = _grantWithLimits();
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(validator.getSessionId(grant)), _ping());
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_KEY + 1, validator.getSessionId(grant));
        userOp.signature = abi.encodePacked(
            uint8(2), abi.encode(grant, abi.encodePacked(r, s, v), _keySignature(userOp, SESSION_KEY))
        );
        _failsSignature(userOp);
    }

    function test_lazyEnableSignedByAnotherKeyFails() public {
        SessionGrant memory grant = _grantWithLimits();
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(validator.getSessionId(grant)), _ping());
        userOp.signature = abi.encodePacked(
            uint8(2), abi.encode(grant, _ownerSignature(grant), _keySignature(userOp, SESSION_KEY + 1))
        );
        _failsSignature(userOp);
    }

    function test_lazyEnableWithTruncatedEnvelopeFails() public {
        SessionGrant memory grant = _grantWithLimits();
        PackedUserOperation memory userOp = _enableOp(grant, _ping());
        bytes memory signature = userOp.signature;
        assembly {
            mstore(signature, 200)
        }
        _failsSignature(userOp);
    }

    // ------------------------------------------------------------ grant checks

    function test_grantRejectsZeroSessionKey() public {
        SessionGrant memory grant = _grantWithLimits();
        grant.sessionKey = address(0);
        _enableReverts(
            grant,
            abi.encodeWithSelector(ISessionKeyValidator.InvalidSessionKey.selector, validator.getSessionId(grant))
        );
    }

    function test_grantRejectsBadWindows() public {
        SessionGrant memory grant = _grantWithLimits();
        grant.validUntil = 0;
        _enableReverts(
            grant,
            abi.encodeWithSelector(ISessionKeyValidator.InvalidValidity.selector, validator.getSessionId(grant), 0, 0)
        );
        grant.validAfter = 100;
        grant.validUntil = 100;
        _enableReverts(
            grant,
            abi.encodeWithSelector(
                ISessionKeyValidator.InvalidValidity.selector, validator.getSessionId(grant), 100, 100
            )
        );
    }

    function test_grantRejectsNoPermissions() public {
        SessionGrant memory grant = _grantWithLimits();
        grant.permissions = new Permission[](0);
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.NoPermissions.selector, validator.getSessionId(grant))
        );
    }

    function test_grantRejectsAnotherAccount() public {
        SessionGrant memory grant = _grantWithLimits();
        grant.account = alice;
        _enableReverts(
            grant,
            abi.encodeWithSelector(
                ISessionKeyValidator.GrantAccountMismatch.selector, validator.getSessionId(grant), alice, owner
            )
        );
    }

    function test_grantRejectsDuplicateLimits() public {
        SessionGrant memory grant = _grant(_list(_native(1), _erc20(address(token), 1), _native(2)));
        _enableReverts(
            grant,
            abi.encodeWithSelector(ISessionKeyValidator.DuplicatePermission.selector, validator.getSessionId(grant), 2)
        );
        grant = _grant(_list(_erc20(address(token), 1), _erc20(address(token), 2)));
        _enableReverts(
            grant,
            abi.encodeWithSelector(ISessionKeyValidator.DuplicatePermission.selector, validator.getSessionId(grant), 1)
        );
    }

    function test_grantRejectsMalformedPermissions() public {
        Permission[6] memory bad = [
            _permission(PermissionType.Root, address(token), 0, new bytes4[](0)),
            _permission(PermissionType.NativeTokenTransfer, address(token), 1, new bytes4[](0)),
            _permission(PermissionType.Erc20TokenTransfer, address(0), 1, new bytes4[](0)),
            _permission(
                PermissionType.Erc20TokenTransfer, address(token), uint256(type(uint128).max) + 1, new bytes4[](0)
            ),
            _permission(PermissionType.FunctionsOnContract, address(target), 0, new bytes4[](0)),
            _permission(PermissionType.FunctionsOnAllContracts, address(target), 0, _selectors(Target.ping.selector))
        ];
        for (uint256 i; i < bad.length; ++i) {
            SessionGrant memory grant = _grant(_list(bad[i]));
            _enableReverts(
                grant,
                abi.encodeWithSelector(
                    ISessionKeyValidator.InvalidPermission.selector, validator.getSessionId(grant), 0
                )
            );
        }
    }

    // ------------------------------------------------------------ revocation

    function test_ownerRevokesOneSession() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = _enable(grant);
        SessionGrant memory other = _grantWithLimits();
        other.salt = 1;
        bytes32 otherId = _enable(other);
        vm.prank(owner);
        validator.revokeSession(grant);
        vm.assertEq(uint256(_status(id)), uint256(SessionStatus.Revoked), "revoked");
        _failsSignature(_useOp(id, _ping()));
        handleOp(_useOp(otherId, _ping()));
        vm.assertEq(target.pings(), 1, "the other session still works");
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.SessionNotUnused.selector, id, SessionStatus.Revoked)
        );
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.SessionAlreadyRevoked.selector, id));
        validator.revokeSession(grant);
    }

    function test_revokeAllBumpsTheEpoch() public {
        bytes32 id = _enable(_grantWithLimits());
        SessionGrant memory other = _grantWithLimits();
        other.salt = 1;
        bytes32 otherId = _enable(other);
        vm.prank(owner);
        validator.revokeAllSessions();
        vm.assertEq(validator.epochOf(owner), 1, "epoch");
        vm.assertEq(uint256(_status(id)), uint256(SessionStatus.Revoked), "first revoked");
        vm.assertEq(uint256(_status(otherId)), uint256(SessionStatus.Revoked), "second revoked");
        _failsSignature(_useOp(id, _ping()));
        _failsSignature(_useOp(otherId, _ping()));
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.NativeTokenTransfer, address(0)), 0, "nothing left"
        );
        // A new grant works in the new epoch; the old ones cannot be enabled again.
        SessionGrant memory fresh = _grantWithLimits();
        fresh.salt = 2;
        handleOp(_useOp(_enable(fresh), _ping()));
        vm.assertEq(target.pings(), 1, "new session");
        _failsSignature(_enableOp(other, _ping()));
        _enableReverts(
            other,
            abi.encodeWithSelector(ISessionKeyValidator.SessionNotUnused.selector, otherId, SessionStatus.Revoked)
        );
    }

    function test_sessionKeyRevokesItself() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = _enable(grant);
        vm.prank(sessionSigner);
        validator.revokeSession(grant);
        _failsSignature(_useOp(id, _ping()));
    }

    function test_strangerCannotRevoke() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = _enable(grant);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.NotSessionAuthority.selector, id, alice));
        validator.revokeSession(grant);
    }

    function test_unusedLazyGrantRevokedBeforeFirstUse() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = validator.getSessionId(grant);
        vm.prank(owner);
        validator.revokeSession(grant);
        vm.assertEq(uint256(_status(id)), uint256(SessionStatus.Revoked), "revoked unused");
        _failsSignature(_enableOp(grant, _ping()));
    }

    // ------------------------------------------------------------ validity windows

    function test_expiredSessionIsRejectedByTheEntryPoint() public {
        bytes32 id = _enable(_grantWithLimits());
        vm.warp(block.timestamp + 1 days + 1);
        _failsWindow(_useOp(id, _ping()));
    }

    function test_notYetValidSessionIsRejectedByTheEntryPoint() public {
        SessionGrant memory grant = _grantWithLimits();
        grant.validAfter = uint48(block.timestamp + 1 hours);
        bytes32 id = _enable(grant);
        _failsWindow(_useOp(id, _ping()));
        vm.warp(block.timestamp + 1 hours + 1);
        handleOp(_useOp(id, _ping()));
        vm.assertEq(target.pings(), 1, "valid once due");
    }

    // ------------------------------------------------------------ replay

    function test_grantCannotBeReplayedOnAnotherAccount() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = _enable(grant);
        address other = vm.addr(OTHER_OWNER_KEY);
        delegate(OTHER_OWNER_KEY, address(leashImplementation));
        vm.deal(other, 10 ether);
        vm.prank(other);
        LeashAccount(payable(other)).installModule(MODULE_TYPE_VALIDATOR, address(validator), "");

        // The enabled session does not exist there.
        PackedUserOperation memory userOp = buildUserOp(other, _sessionNonceKey(id), _ping());
        userOp.signature = abi.encodePacked(uint8(0), id, _keySignature(userOp, SESSION_KEY));
        _failsSignature(userOp);

        // Nor can the owner's grant signature enable it there: the grant names its account.
        userOp = buildUserOp(other, _sessionNonceKey(id), _ping());
        userOp.signature =
            abi.encodePacked(uint8(2), abi.encode(grant, _ownerSignature(grant), _keySignature(userOp, SESSION_KEY)));
        _rejects(userOp, abi.encodeWithSelector(ISessionKeyValidator.GrantAccountMismatch.selector, id, owner, other));
    }

    function test_grantCannotBeReplayedOnAnotherChain() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes memory ownerSignature = _ownerSignature(grant);
        bytes32 id = validator.getSessionId(grant);
        vm.chainId(block.chainid + 1);
        vm.assertNotEq(validator.getSessionId(grant), id, "the id binds the chain");
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(validator.getSessionId(grant)), _ping());
        userOp.signature =
            abi.encodePacked(uint8(2), abi.encode(grant, ownerSignature, _keySignature(userOp, SESSION_KEY)));
        _failsSignature(userOp);
    }

    // ------------------------------------------------------------ module install and uninstall

    function test_installAndUninstallWithTheRealValidator() public {
        bytes32 id = _enable(_grantWithLimits());
        vm.assertTrue(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(validator), ""), "installed");
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.ModuleAlreadyInstalled.selector, address(validator)));
        account.installModule(MODULE_TYPE_VALIDATOR, address(validator), "");

        vm.prank(owner);
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        vm.assertFalse(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(validator), ""), "uninstalled");
        vm.assertFalse(validator.isInitialized(owner), "the validator's own flag is cleared");
        vm.assertEq(validator.epochOf(owner), 1, "uninstall revoked every session");
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.ModuleNotInstalled.selector, address(validator)));
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        // The built-in validator is not checked by the account: it fails the signature itself.
        _failsSignature(_useOp(id, _ping()));

        // Reinstalling does not bring old sessions back; new ones work.
        vm.prank(owner);
        account.installModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        vm.assertTrue(validator.isInitialized(owner), "installed again");
        _failsSignature(_useOp(id, _ping()));
        SessionGrant memory fresh = _grantWithLimits();
        fresh.salt = 1;
        handleOp(_useOp(_enable(fresh), _ping()));
        vm.assertEq(target.pings(), 1, "a session enabled after the reinstall works");
    }

    // ------------------------------------------------------------ built-in validator

    function test_accountKnowsTheBuiltInValidatorAddress() public view {
        vm.assertEq(leashImplementation.SESSION_KEY_VALIDATOR(), address(validator), "CREATE2 address, salt 0");
    }

    function test_builtInValidatorNeedsNoAccountStorage() public {
        // Installing the built-in validator writes nothing to the account: its flag lives in the
        // validator, in the word validation reads anyway.
        vm.prank(owner);
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        vm.record();
        vm.prank(owner);
        account.installModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        (, bytes32[] memory accountWrites) = vm.accesses(owner);
        vm.assertEq(accountWrites.length, 0, "no account storage written");
        vm.assertTrue(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(validator), ""), "installed");
    }

    function test_accountThatNeverInstalledTheValidatorFailsEverySignature() public {
        address other = vm.addr(OTHER_OWNER_KEY);
        delegate(OTHER_OWNER_KEY, address(leashImplementation));
        vm.deal(other, 10 ether);
        vm.assertFalse(
            LeashAccount(payable(other)).isModuleInstalled(MODULE_TYPE_VALIDATOR, address(validator), ""),
            "not installed"
        );

        // Even a session the account enabled itself does not validate before installation.
        SessionGrant memory grant = _grantWithLimits();
        grant.account = other;
        vm.prank(other);
        bytes32 id = validator.enableSession(grant);
        PackedUserOperation memory userOp = buildUserOp(other, _sessionNonceKey(id), _ping());
        userOp.signature = abi.encodePacked(uint8(0), id, _keySignature(userOp, SESSION_KEY));
        _failsSignature(userOp);

        // Nor does the lazy form, and it enables nothing.
        grant.salt = 1;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OTHER_OWNER_KEY, validator.getSessionId(grant));
        userOp = buildUserOp(other, _sessionNonceKey(validator.getSessionId(grant)), _ping());
        userOp.signature = abi.encodePacked(
            uint8(2), abi.encode(grant, abi.encodePacked(r, s, v), _keySignature(userOp, SESSION_KEY))
        );
        _failsSignature(userOp);
        (SessionStatus status,,) = validator.getSession(other, validator.getSessionId(grant));
        vm.assertEq(uint256(status), uint256(SessionStatus.Unused), "nothing enabled");

        // Once installed, the session enabled before works.
        vm.prank(other);
        LeashAccount(payable(other)).installModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        userOp = buildUserOp(other, _sessionNonceKey(id), _ping());
        userOp.signature = abi.encodePacked(uint8(0), id, _keySignature(userOp, SESSION_KEY));
        handleOp(userOp);
        vm.assertEq(target.pings(), 1, "installed: validates");
    }

    function test_revokeAllKeepsTheValidatorInstalled() public {
        bytes32 id = _enable(_grantWithLimits());
        vm.prank(owner);
        validator.revokeAllSessions();
        vm.assertTrue(validator.isInitialized(owner), "still installed");
        _failsSignature(_useOp(id, _ping()));
    }

    function test_installModuleThroughOwnerUserOperation() public {
        vm.prank(owner);
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        PackedUserOperation memory userOp = buildUserOp(
            owner, 0, abi.encodeCall(LeashAccount.installModule, (MODULE_TYPE_VALIDATOR, address(validator), ""))
        );
        signUserOp(userOp, OWNER_KEY);
        handleOp(userOp);
        vm.assertTrue(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(validator), ""), "installed");
    }

    function test_validatorSignsNoErc1271Messages() public {
        _enable(_grantWithLimits());
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SESSION_KEY, keccak256("message"));
        bytes4 result =
            validator.isValidSignatureWithSender(address(this), keccak256("message"), abi.encodePacked(r, s, v));
        vm.assertTrue(result == bytes4(0xffffffff), "rejected");
        vm.assertTrue(validator.isModuleType(MODULE_TYPE_VALIDATOR), "validator type");
        vm.assertFalse(validator.isModuleType(2), "not an executor");
    }
}
