// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Erc6492Verifier} from "../../../contracts/offchain/Erc6492Verifier.sol";
import {TestSmartOwner, TestSmartOwnerFactory} from "../../../contracts/test/TestSmartOwner.sol";
import {Test} from "../utils/Vm.sol";

/// @notice A factory whose every call reverts with a reason.
contract RevertingFactory {
    error NoDeployments();

    fallback() external {
        revert NoDeployments();
    }
}

/// @notice A factory whose every call succeeds and deploys nothing.
contract IdleFactory {
    fallback() external {}
}

/// @notice `Erc6492Verifier` run as leash-auth runs it: its creation code with the constructor
///         arguments appended, the verdict read from the one byte of "runtime code" it returns.
contract Erc6492VerifierTest is Test {
    bytes32 internal constant MAGIC = 0x6492649264926492649264926492649264926492649264926492649264926492;
    uint256 internal constant OWNER_KEY = 0xA11CE;
    uint256 internal constant STRANGER_KEY = 0xBAD;
    bytes32 internal constant HASH = keccak256("the capability");
    bytes32 internal constant SALT = bytes32(uint256(9));

    TestSmartOwnerFactory internal factory;

    function setUp() public {
        factory = new TestSmartOwnerFactory();
    }

    // ------------------------------------------------------------ helpers

    /// @dev The verdict byte, from the same creation code and arguments the Rust side sends.
    function _verdict(address signer, bytes32 hash, bytes memory signature) internal returns (bytes memory) {
        bytes memory init = abi.encodePacked(type(Erc6492Verifier).creationCode, abi.encode(signer, hash, signature));
        address ran;
        assembly {
            ran := create(0, add(init, 32), mload(init))
        }
        vm.assertTrue(ran != address(0), "the verifier reverted");
        return ran.code;
    }

    function _assertValid(address signer, bytes memory signature, string memory what) internal {
        vm.assertEq(_verdict(signer, HASH, signature), hex"01", what);
    }

    function _assertInvalid(address signer, bytes memory signature, string memory what) internal {
        vm.assertEq(_verdict(signer, HASH, signature), hex"00", what);
    }

    function _sign(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, hash);
        return abi.encodePacked(r, s, v);
    }

    function _wrap(address factory_, bytes memory factoryCalldata, bytes memory inner)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(abi.encode(factory_, factoryCalldata, inner), MAGIC);
    }

    function _deployCall(address owner) internal pure returns (bytes memory) {
        return abi.encodeCall(TestSmartOwnerFactory.deploy, (owner, SALT));
    }

    /// @dev The owner key's smart account, not deployed yet.
    function _counterfactual() internal view returns (address account) {
        account = factory.predict(vm.addr(OWNER_KEY), SALT);
        vm.assertEq(account.code.length, 0, "not deployed yet");
    }

    // ------------------------------------------------------------ EOA: ecrecover

    function test_eoa_signatureOfItsKey_isValid() public {
        _assertValid(vm.addr(OWNER_KEY), _sign(OWNER_KEY, HASH), "the owner's own signature");
    }

    function test_eoa_vAsZeroOrOne_isValid() public {
        bytes memory signature = _sign(OWNER_KEY, HASH);
        signature[64] = bytes1(uint8(signature[64]) - 27);
        _assertValid(vm.addr(OWNER_KEY), signature, "v in {0, 1}");
    }

    function test_eoa_signatureOfAnotherKey_isInvalid() public {
        _assertInvalid(vm.addr(OWNER_KEY), _sign(STRANGER_KEY, HASH), "a stranger's signature");
        _assertInvalid(vm.addr(OWNER_KEY), _sign(OWNER_KEY, keccak256("another")), "another hash");
    }

    function test_eoa_malformedSignature_isInvalid() public {
        bytes memory signature = _sign(OWNER_KEY, HASH);
        _assertInvalid(vm.addr(OWNER_KEY), "", "empty");
        _assertInvalid(vm.addr(OWNER_KEY), abi.encodePacked(signature, uint8(0)), "66 bytes");
        signature[64] = bytes1(uint8(29));
        _assertInvalid(vm.addr(OWNER_KEY), signature, "v = 29");
    }

    function test_eoa_zeroSigner_isInvalid() public {
        // ecrecover's failure value is address(0): a garbage signature must not pass for it.
        _assertInvalid(address(0), new bytes(65), "zero signature for the zero address");
    }

    // ------------------------------------------------------------ ERC-1271: deployed account

    function test_erc1271_deployedAccountAccepting_isValid() public {
        TestSmartOwner account = new TestSmartOwner(vm.addr(OWNER_KEY));
        _assertValid(address(account), _sign(OWNER_KEY, HASH), "the account accepts its owner's signature");
    }

    function test_erc1271_deployedAccountRefusing_isInvalid() public {
        TestSmartOwner account = new TestSmartOwner(vm.addr(OWNER_KEY));
        _assertInvalid(address(account), _sign(STRANGER_KEY, HASH), "0xffffffff");
        _assertInvalid(address(account), hex"01", "a short signature");
    }

    function test_erc1271_contractWithoutIsValidSignature_isInvalid() public {
        // IdleFactory's fallback answers with no data: no magic value, so no.
        _assertInvalid(address(new IdleFactory()), _sign(OWNER_KEY, HASH), "no answer");
        // RevertingFactory's fallback reverts: a refusal, not a revert of the verifier.
        _assertInvalid(address(new RevertingFactory()), _sign(OWNER_KEY, HASH), "a revert");
    }

    function test_erc1271_ownerKeyIsNotEnoughForADeployedAccount() public {
        // The account has code, so ecrecover is never tried: the key's address is not the account.
        TestSmartOwner account = new TestSmartOwner(vm.addr(STRANGER_KEY));
        _assertInvalid(address(account), _sign(OWNER_KEY, HASH), "the owner is someone else");
    }

    // ------------------------------------------------------------ ERC-6492: counterfactual account

    function test_erc6492_counterfactualAccepting_isValid() public {
        address account = _counterfactual();
        bytes memory signature = _wrap(address(factory), _deployCall(vm.addr(OWNER_KEY)), _sign(OWNER_KEY, HASH));
        _assertValid(account, signature, "deployed through the factory, then accepts");
    }

    function test_erc6492_counterfactualRefusing_isInvalid() public {
        address account = _counterfactual();
        bytes memory signature = _wrap(address(factory), _deployCall(vm.addr(OWNER_KEY)), _sign(STRANGER_KEY, HASH));
        _assertInvalid(account, signature, "deployed through the factory, then refuses");
    }

    function test_erc6492_wrappedForADeployedAccount_skipsTheFactory() public {
        address account = factory.deploy(vm.addr(OWNER_KEY), SALT);
        RevertingFactory reverting = new RevertingFactory();
        _assertValid(account, _wrap(address(reverting), hex"", _sign(OWNER_KEY, HASH)), "factory not called");
        _assertInvalid(account, _wrap(address(reverting), hex"", _sign(STRANGER_KEY, HASH)), "and still asked");
    }

    function test_erc6492_wrappedEoaSignature_isNotRecovered() public {
        // A wrapper always goes through the factory and ERC-1271, never ecrecover.
        address eoa = vm.addr(OWNER_KEY);
        IdleFactory idle = new IdleFactory();
        bytes memory signature = _wrap(address(idle), hex"", _sign(OWNER_KEY, HASH));
        vm.expectRevert(abi.encodeWithSelector(Erc6492Verifier.SignerNotDeployed.selector, eoa, address(idle)));
        new Erc6492Verifier(eoa, HASH, signature);
    }

    function test_erc6492_factoryReverting_reverts() public {
        address account = _counterfactual();
        RevertingFactory reverting = new RevertingFactory();
        bytes memory signature = _wrap(address(reverting), hex"", _sign(OWNER_KEY, HASH));
        vm.expectRevert(
            abi.encodeWithSelector(
                Erc6492Verifier.FactoryCallFailed.selector,
                address(reverting),
                abi.encodeWithSelector(RevertingFactory.NoDeployments.selector)
            )
        );
        new Erc6492Verifier(account, HASH, signature);
    }

    function test_erc6492_factoryDeployingAnotherAccount_reverts() public {
        address account = _counterfactual();
        // The calldata deploys the stranger's account, not the one the signature names.
        bytes memory signature = _wrap(address(factory), _deployCall(vm.addr(STRANGER_KEY)), _sign(OWNER_KEY, HASH));
        vm.expectRevert(abi.encodeWithSelector(Erc6492Verifier.SignerNotDeployed.selector, account, address(factory)));
        new Erc6492Verifier(account, HASH, signature);
    }

    function test_erc6492_undecodableWrapper_reverts() public {
        address account = _counterfactual();
        vm.expectRevert();
        new Erc6492Verifier(account, HASH, abi.encodePacked(bytes32(uint256(1)), MAGIC));
    }

    function test_erc6492_magicAloneIsNotAWrapperOfNothing() public {
        // 32 bytes of magic leave an empty wrapper, which does not decode.
        address account = _counterfactual();
        vm.expectRevert();
        new Erc6492Verifier(account, HASH, abi.encodePacked(MAGIC));
    }
}
