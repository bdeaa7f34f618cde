//! Signed UserOperations for a [`Chain`], built against its current nonces: the owner's, and a
//! session key's through `SessionKeyValidator`.

use crate::{Chain, SimError};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::{Deployment, PackedUserOperation};
use leash_core::{
    calls::{Call, execute_calldata},
    eip7702::sign_authorization,
    grant::GrantDomain,
    session_signature::{SessionAuth, session_nonce_key},
    user_operation::{UserOperationBuilder, user_operation_hash},
};

impl Chain {
    /// The grant domain of this chain's `SessionKeyValidator`.
    pub fn grant_domain(&self) -> GrantDomain {
        GrantDomain {
            chain_id: self.chain_id(),
            validator: Deployment::session_key_validator().address(),
        }
    }

    /// An owner-signed UserOperation of the delegated `owner` account making `calls`.
    pub fn owner_user_op(
        &mut self,
        owner: &PrivateKeySigner,
        calls: &[Call],
    ) -> Result<PackedUserOperation, SimError> {
        self.owner_user_op_with_call_data(owner, execute_calldata(calls)?)
    }

    /// An owner-signed UserOperation of the delegated `owner` account with raw account calldata
    /// (for account functions other than `execute`, such as `installModule`).
    pub fn owner_user_op_with_call_data(
        &mut self,
        owner: &PrivateKeySigner,
        call_data: Bytes,
    ) -> Result<PackedUserOperation, SimError> {
        let builder = UserOperationBuilder::new(owner.address()).call_data(call_data);
        self.sign_as_owner(owner, builder)
    }

    /// The first UserOperation of an EOA that is not delegated yet: it carries the EIP-7702
    /// marker as `initCode`, and the authorization delegating the EOA to `LeashAccount`, returned
    /// alongside, must travel in the same bundle transaction.
    pub fn first_owner_user_op(
        &mut self,
        owner: &PrivateKeySigner,
        call_data: Bytes,
    ) -> Result<(PackedUserOperation, SignedAuthorization), SimError> {
        let delegate = Deployment::leash_account().address();
        let eoa_nonce = self.nonce(owner.address())?;
        let authorization = sign_authorization(owner, self.chain_id(), delegate, eoa_nonce)?;
        let builder = UserOperationBuilder::new(owner.address())
            .call_data(call_data)
            .eip7702();
        Ok((self.sign_as_owner(owner, builder)?, authorization))
    }

    /// A UserOperation of `account` making `calls`, signed by `session_key` under `auth`, on the
    /// session's own nonce lane.
    pub fn session_user_op(
        &mut self,
        account: Address,
        session_key: &PrivateKeySigner,
        auth: &SessionAuth<'_>,
        calls: &[Call],
    ) -> Result<PackedUserOperation, SimError> {
        let domain = self.grant_domain();
        let nonce_key = session_nonce_key(domain.validator, auth.session_id(&domain));
        let (op, _) = UserOperationBuilder::new(account)
            .nonce(self.entry_point_nonce(account, nonce_key)?)
            .calls(calls)?
            .sign_as_session(session_key, auth, self.chain_id())?;
        Ok(op)
    }

    /// The EntryPoint's hash of `op` on this chain (`delegate` for an EIP-7702 `initCode`).
    pub fn user_op_hash(
        &self,
        op: &PackedUserOperation,
        delegate: Option<Address>,
    ) -> Result<B256, SimError> {
        let entry_point = Deployment::entry_point().address();
        Ok(user_operation_hash(
            op,
            entry_point,
            self.chain_id(),
            delegate,
        )?)
    }

    fn sign_as_owner(
        &mut self,
        owner: &PrivateKeySigner,
        builder: UserOperationBuilder,
    ) -> Result<PackedUserOperation, SimError> {
        let nonce = self.entry_point_nonce(owner.address(), U256::ZERO)?;
        let (op, _) = builder.nonce(nonce).sign_as_owner(owner, self.chain_id())?;
        Ok(op)
    }
}
