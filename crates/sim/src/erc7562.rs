//! ERC-7562's storage and opcode rules for the validation phase, checked on the embedded chain:
//! bundlers in leash's tests run without the standard's tracer (anvil has none), so this is what
//! tells that validation only touches storage associated with the account.

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolCall;
use leash_bindings::LeashAccount;
use revm::{
    Inspector,
    bytecode::opcode::{self, OpCode},
    context_interface::ContextTr,
    interpreter::{
        CallInputs, CallOutcome, CreateInputs, CreateOutcome, Interpreter,
        interpreter::EthInterpreter,
        interpreter_types::{Jumps, LegacyBytecode},
    },
};
use std::collections::BTreeSet;

/// The most a slot may lie past `keccak256(A ‖ x)` and still be associated with `A`: the fields of
/// a struct in a `mapping(address => struct)` (ERC-7562, "associated with an address").
const MAX_ASSOCIATED_OFFSET: u64 = 128;

/// Something the validation of a UserOperation did that ERC-7562 forbids; a bundler running the
/// standard's tracer would drop the operation for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Erc7562Violation {
    /// A storage access (STO-021) in a contract other than the account and the EntryPoint, to a
    /// slot not associated with the account.
    #[error(
        "{opcode} of slot {slot:#x} in {contract}: the slot is not associated with account {account}"
    )]
    UnassociatedSlot {
        account: Address,
        contract: Address,
        slot: U256,
        opcode: &'static str,
    },
    /// An opcode banned in validation (OP-011), or GAS not followed by a call (OP-012).
    #[error("{opcode} in {contract} while validating account {account}: banned in validation")]
    BannedOpcode {
        account: Address,
        contract: Address,
        opcode: &'static str,
    },
}

/// A storage access seen while an account validated.
#[derive(Clone, Copy, Debug)]
struct StorageAccess {
    account: Address,
    contract: Address,
    slot: U256,
    opcode: u8,
}

/// Records, during each account's `validateUserOp` frame and the frames below it only, the storage
/// it touches, the KECCAK256 preimages that tell which slots are associated with it, and the
/// banned opcodes it runs.
#[derive(Debug)]
pub(crate) struct ValidationTracer {
    entry_point: Address,
    /// The account validating and the number of frames open when its `validateUserOp` began.
    validating: Option<(Address, usize)>,
    open_frames: usize,
    accesses: Vec<StorageAccess>,
    /// `keccak256(A ‖ x)` for every preimage seen that starts with an account `A`'s word, by `A`.
    associated_bases: BTreeSet<(Address, U256)>,
    banned: Vec<Erc7562Violation>,
}

impl ValidationTracer {
    pub(crate) fn new(entry_point: Address) -> Self {
        Self {
            entry_point,
            validating: None,
            open_frames: 0,
            accesses: Vec::new(),
            associated_bases: BTreeSet::new(),
            banned: Vec::new(),
        }
    }

    /// The violations of the validations seen, banned opcodes first, in the order they ran. Slots
    /// are judged once the transaction is over, against every preimage the account's validation
    /// hashed, as a bundler judges its whole validation trace.
    pub(crate) fn into_violations(self) -> Vec<Erc7562Violation> {
        let mut violations = self.banned;
        for access in &self.accesses {
            if access.contract == access.account
                || access.contract == self.entry_point
                || is_associated(access.slot, access.account, &self.associated_bases)
            {
                continue;
            }
            violations.push(Erc7562Violation::UnassociatedSlot {
                account: access.account,
                contract: access.contract,
                slot: access.slot,
                opcode: opcode_name(access.opcode),
            });
        }
        violations
    }

    fn frame_end(&mut self) {
        self.open_frames -= 1;
        if self
            .validating
            .is_some_and(|(_, depth)| depth == self.open_frames)
        {
            self.validating = None;
        }
    }
}

/// ERC-7562: `slot` is associated with `account` if it is the account's address as a word, or lies
/// at most [`MAX_ASSOCIATED_OFFSET`] past `keccak256(account ‖ x)` for a preimage seen.
fn is_associated(slot: U256, account: Address, bases: &BTreeSet<(Address, U256)>) -> bool {
    if slot == U256::from_be_slice(account.as_slice()) {
        return true;
    }
    let lowest = slot.saturating_sub(U256::from(MAX_ASSOCIATED_OFFSET));
    bases
        .range((account, lowest)..=(account, slot))
        .next()
        .is_some()
}

fn opcode_name(code: u8) -> &'static str {
    OpCode::new(code).map_or("UNKNOWN", |op| op.as_str())
}

/// OP-011: what validation may not read (the environment a bundle can change between simulation
/// and inclusion) or do (create contracts, destroy itself).
fn is_banned(code: u8) -> bool {
    matches!(
        code,
        opcode::GASPRICE
            | opcode::GASLIMIT
            | opcode::DIFFICULTY
            | opcode::TIMESTAMP
            | opcode::BASEFEE
            | opcode::BLOCKHASH
            | opcode::NUMBER
            | opcode::SELFBALANCE
            | opcode::BALANCE
            | opcode::ORIGIN
            | opcode::CREATE
            | opcode::COINBASE
            | opcode::SELFDESTRUCT
            | opcode::BLOBHASH
            | opcode::BLOBBASEFEE
    )
}

fn is_call(code: u8) -> bool {
    matches!(
        code,
        opcode::CALL | opcode::CALLCODE | opcode::DELEGATECALL | opcode::STATICCALL
    )
}

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for ValidationTracer {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        let Some((account, _)) = self.validating else {
            return;
        };
        let code = interp.bytecode.opcode();
        let contract = interp.input.target_address;
        match code {
            opcode::SLOAD | opcode::SSTORE | opcode::TLOAD | opcode::TSTORE => {
                if let Ok(slot) = interp.stack.peek(0) {
                    self.accesses.push(StorageAccess {
                        account,
                        contract,
                        slot,
                        opcode: code,
                    });
                }
            }
            opcode::KECCAK256 => {
                if let (Ok(offset), Ok(size)) = (interp.stack.peek(0), interp.stack.peek(1)) {
                    let (Ok(offset), Ok(size)) = (usize::try_from(offset), usize::try_from(size))
                    else {
                        return;
                    };
                    let memory = interp.memory.context_memory();
                    // Past the end of memory the bytes hashed are zeros: no account's word.
                    let Some(preimage) = memory.get(offset..offset.saturating_add(size)) else {
                        return;
                    };
                    let account_word = B256::left_padding_from(account.as_slice());
                    if preimage.starts_with(account_word.as_slice()) {
                        self.associated_bases
                            .insert((account, keccak256(preimage).into()));
                    }
                }
            }
            opcode::GAS => {
                let pc = interp.bytecode.pc();
                let next = interp.bytecode.bytecode_slice().get(pc + 1).copied();
                if !next.is_some_and(is_call) {
                    self.banned.push(Erc7562Violation::BannedOpcode {
                        account,
                        contract,
                        opcode: "GAS",
                    });
                }
            }
            code if is_banned(code) => self.banned.push(Erc7562Violation::BannedOpcode {
                account,
                contract,
                opcode: opcode_name(code),
            }),
            _ => {}
        }
    }

    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        if self.validating.is_none()
            && inputs.caller == self.entry_point
            && inputs
                .input
                .bytes(context)
                .starts_with(&LeashAccount::validateUserOpCall::SELECTOR)
        {
            self.validating = Some((inputs.target_address, self.open_frames));
        }
        self.open_frames += 1;
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, _outcome: &mut CallOutcome) {
        self.frame_end();
    }

    fn create(&mut self, _context: &mut CTX, _inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        self.open_frames += 1;
        None
    }

    fn create_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &CreateInputs,
        _outcome: &mut CreateOutcome,
    ) {
        self.frame_end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    const ACCOUNT: Address = address!("0x00000000000000000000000000000000000a11ce");

    #[test]
    fn a_slot_is_associated_up_to_128_past_a_hash_of_the_account() {
        let base = U256::from(1_000_000);
        let bases = BTreeSet::from([(ACCOUNT, base)]);
        assert!(is_associated(base, ACCOUNT, &bases));
        assert!(is_associated(base + U256::from(128), ACCOUNT, &bases));
        assert!(!is_associated(base + U256::from(129), ACCOUNT, &bases));
        assert!(!is_associated(base - U256::from(1), ACCOUNT, &bases));
        assert!(!is_associated(base, Address::ZERO, &bases));
        assert!(is_associated(
            U256::from_be_slice(ACCOUNT.as_slice()),
            ACCOUNT,
            &BTreeSet::new()
        ));
    }
}
