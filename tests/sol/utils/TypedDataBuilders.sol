// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {Permission, PermissionType, SessionGrant} from "../../../contracts/types/SessionTypes.sol";
import {TypedDataApp} from "../../../contracts/test/TypedDataApp.sol";
import {SignerBuilders} from "./SignerBuilders.sol";

/// @notice `TypedDataApp`, approved by the account, and the session operations that redeem a session's
///         signature of its typed data: shared by the tests of signing as the account and of the gas
///         probe that measures such an operation.
abstract contract TypedDataBuilders is SignerBuilders {
    TypedDataApp internal app;
    address internal recipient = address(0xCAFE);

    function setUp() public virtual override {
        super.setUp();
        app = new TypedDataApp();
        // The account approved the app once, as accounts approve Permit2.
        vm.prank(owner);
        token.approve(address(app), type(uint256).max);
    }

    function _typedDataSigning(address domain) internal pure returns (Permission memory) {
        return _permission(PermissionType.TypedDataSigning, domain, 0, new bytes4[](0));
    }

    /// @dev A session of `kind`'s key that may call `pull` on the app, sign its typed data and spend
    ///      `ALLOWANCE` of the token; salted so that each test may hold several.
    function _pullSession(uint8 kind, uint256 salt) internal returns (bytes32) {
        SessionGrant memory grant = _grantTo(
            _idOf(kind),
            _list(
                _erc20(address(token), ALLOWANCE),
                _functionsOn(address(app), TypedDataApp.pull.selector),
                _typedDataSigning(address(app))
            )
        );
        grant.salt = salt;
        return _enable(grant);
    }

    /// @dev The account's EIP-712 domain fields as `TypedDataSign` nests them.
    function _accountFields(address account_) internal view returns (bytes memory) {
        return abi.encode(keccak256("LeashAccount"), keccak256("1"), block.chainid, account_, bytes32(0));
    }

    /// @dev What a session key signs for the app's `contents` as `account_` (ERC-7739 TypedDataSign).
    function _typedDataDigest(address account_, TypedDataApp app_, bytes32 contents) internal view returns (bytes32) {
        bytes32 typeHash = keccak256(
            abi.encodePacked(
                "TypedDataSign(Pull contents,string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)",
                app_.PULL_TYPE()
            )
        );
        bytes32 structHash = keccak256(abi.encodePacked(typeHash, contents, _accountFields(account_)));
        return keccak256(abi.encodePacked("\x19\x01", app_.DOMAIN_SEPARATOR(), structHash));
    }

    /// @dev The account's ERC-1271 signature by session `sessionId`'s key of `kind` of a `Pull`.
    function _pullSignature(uint8 kind, bytes32 sessionId, TypedDataApp app_, uint256 amount, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        bytes32 contents = app_.contentsOf(address(token), amount, recipient, nonce);
        bytes memory keySignature = _signAs(kind, _typedDataDigest(owner, app_, contents));
        string memory contentsType = app_.PULL_TYPE();
        bytes memory tail = abi.encodePacked(
            uint8(0x0f),
            keccak256("TypedDataApp"),
            keccak256("1"),
            block.chainid,
            uint256(uint160(address(app_))),
            contents,
            contentsType,
            uint16(bytes(contentsType).length)
        );
        return abi.encodePacked(
            address(validator), _mode(kind, 0), sessionId, uint16(keySignature.length), keySignature, tail
        );
    }

    /// @dev An operation of session `sessionId` (balance-checked, as a session limiting the token must
    ///      send a call the selector meter does not see) in which the app pulls `amount` on `signature`.
    function _pullOp(uint8 kind, bytes32 sessionId, uint256 amount, uint256 nonce, bytes memory signature)
        internal
        view
        returns (PackedUserOperation memory)
    {
        bytes memory call =
            abi.encodeCall(TypedDataApp.pull, (owner, address(token), amount, recipient, nonce, signature));
        return _useOpAs(kind, sessionId, _checked(_single(address(app), 0, call), _tokens(address(token))));
    }
}
