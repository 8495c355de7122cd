//! The work one verification has left ([`Budget`]), shared by the path search, the
//! path-wide checks and the paths of revocation list issuers.

use crate::{Budget, ChainError};

#[derive(Debug)]
pub(crate) struct Meter {
    budget: Budget,
    signatures_left: u32,
    calls_left: u32,
    name_comparisons_left: u32,
    /// Revocation list issuers whose paths are being validated, innermost last.
    crl_issuers: Vec<[u8; 32]>,
}

impl Meter {
    pub(crate) fn new(budget: Budget) -> Self {
        Self {
            budget,
            signatures_left: budget.signatures(),
            calls_left: budget.build_calls(),
            name_comparisons_left: budget.name_comparisons(),
            crl_issuers: Vec::new(),
        }
    }

    pub(crate) fn signature(&mut self) -> Result<(), ChainError> {
        self.signatures_left =
            self.signatures_left
                .checked_sub(1)
                .ok_or(ChainError::SignatureBudgetExceeded {
                    limit: self.budget.signatures(),
                })?;
        Ok(())
    }

    pub(crate) fn build_call(&mut self) -> Result<(), ChainError> {
        self.calls_left =
            self.calls_left
                .checked_sub(1)
                .ok_or(ChainError::BuildBudgetExceeded {
                    limit: self.budget.build_calls(),
                })?;
        Ok(())
    }

    pub(crate) fn name_comparison(&mut self) -> Result<(), ChainError> {
        self.name_comparisons_left = self.name_comparisons_left.checked_sub(1).ok_or(
            ChainError::NameConstraintBudgetExceeded {
                limit: self.budget.name_comparisons(),
            },
        )?;
        Ok(())
    }
}

/// How deeply the paths of revocation list issuers may nest (a list's issuer whose own status
/// needs a list whose issuer ...).
pub(crate) const MAX_CRL_ISSUER_DEPTH: usize = 4;

impl Meter {
    /// Enters the path validation of a revocation list's issuer `fingerprint`; `false` when
    /// that would nest too deeply or loop.
    pub(crate) fn enter_crl_issuer(&mut self, fingerprint: [u8; 32]) -> bool {
        if self.crl_issuers.len() >= MAX_CRL_ISSUER_DEPTH || self.crl_issuers.contains(&fingerprint)
        {
            return false;
        }
        self.crl_issuers.push(fingerprint);
        true
    }

    /// Whether the path of the revocation list issuer `fingerprint` is being validated.
    pub(crate) fn is_crl_issuer_in_progress(&self, fingerprint: &[u8; 32]) -> bool {
        self.crl_issuers.contains(fingerprint)
    }

    pub(crate) fn leave_crl_issuer(&mut self) {
        self.crl_issuers.pop();
    }
}
