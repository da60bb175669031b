//! Accounts: sign-up, log-in and passwords.
//!
//! Passwords are hashed with argon2id (OWASP's parameters, the `argon2`
//! defaults) on the blocking pool, never on the async runtime. A wrong
//! password and an unknown email are indistinguishable — same message, and an
//! unknown email still pays for one hash verification — and repeated failures
//! for one email are limited across every instance through the database.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::store;

/// Failed log-ins allowed per email inside [`FAILURE_WINDOW`].
pub const MAX_FAILURES: i64 = 5;
/// The window failed log-ins are counted over.
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);

/// Shortest password we accept (NIST SP 800-63B asks for at least 8).
pub const MIN_PASSWORD_LEN: usize = 10;
const MAX_PASSWORD_LEN: usize = 256;

/// What a user may do inside their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including members and billing.
    Owner,
    /// Everything but ownership.
    Admin,
    /// Read only.
    Viewer,
}

impl Role {
    /// Parses the database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role may change anything.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }
}

/// A syntactically valid, lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Trims and lower-cases `raw`, and checks it looks like `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Self(email))
        } else {
            Err(AccountError::InvalidEmail)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that met the length rules; never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks the length rules.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let len = raw.chars().count();
        if len < MIN_PASSWORD_LEN {
            Err(AccountError::PasswordTooShort)
        } else if len > MAX_PASSWORD_LEN {
            Err(AccountError::PasswordTooLong)
        } else {
            Ok(Self(raw.to_owned()))
        }
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Everything sign-up needs.
#[derive(Debug, Clone)]
pub struct SignUp {
    /// The new organization's name.
    pub org_name: String,
    /// The owner's display name.
    pub name: String,
    /// The owner's email.
    pub email: Email,
    /// The owner's password.
    pub password: Password,
}

/// The signed-in user, as every page and server function sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    /// The user's id.
    pub user_id: Uuid,
    /// Their organization; every tenant query filters on it.
    pub org_id: Uuid,
    /// Their organization's name.
    pub org_name: String,
    /// Their email.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Their role.
    pub role: Role,
}

impl CurrentUser {
    fn from_row(row: store::accounts::UserRow) -> Result<Self, AccountError> {
        let role = Role::parse(&row.role).ok_or(AccountError::CorruptRole(row.role))?;
        Ok(Self {
            user_id: row.id,
            org_id: row.org_id,
            org_name: row.org_name,
            email: row.email,
            name: row.name,
            role,
        })
    }
}

/// Why an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The email is not an email.
    #[error("Enter a valid email address, like name@example.com.")]
    InvalidEmail,
    /// The password is too short.
    #[error("Use at least {MIN_PASSWORD_LEN} characters for your password.")]
    PasswordTooShort,
    /// The password is too long.
    #[error("Use at most {MAX_PASSWORD_LEN} characters for your password.")]
    PasswordTooLong,
    /// The organization name is empty or too long.
    #[error("Enter your organization's name (up to 200 characters).")]
    InvalidOrgName,
    /// Someone already signed up with this email.
    #[error("An account with this email already exists. Log in instead, or use another email.")]
    EmailTaken,
    /// Wrong password or unknown email: deliberately the same.
    #[error("Wrong email or password.")]
    InvalidCredentials,
    /// Too many failures for this email recently.
    #[error("Too many failed log-ins for this email. Try again in {} minutes.", retry_after.whole_minutes().max(1))]
    TooManyAttempts {
        /// How long until the next attempt is allowed.
        retry_after: Duration,
    },
    /// A role the code does not know was found in the database.
    #[error("unknown role {0:?} in the database")]
    CorruptRole(String),
    /// Hashing failed (should not happen with valid parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl AccountError {
    /// Whether the message is about the user's input (shown) rather than our failure (logged).
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            AccountError::CorruptRole(_) | AccountError::Hash(_) | AccountError::Database(_)
        )
    }
}

/// Creates an organization and its owner; returns the signed-in owner.
pub async fn sign_up(pool: &PgPool, form: SignUp) -> Result<CurrentUser, AccountError> {
    let org_name = form.org_name.trim();
    if org_name.is_empty() || org_name.chars().count() > 200 {
        return Err(AccountError::InvalidOrgName);
    }
    let hash = hash_password(form.password).await?;
    let inserted = store::accounts::insert_org_with_owner(
        pool,
        org_name,
        form.name.trim(),
        form.email.as_str(),
        &hash,
    )
    .await;
    let (_, user_id) = match inserted {
        Ok(ids) => ids,
        Err(e) if store::is_unique_violation(&e, "users_email_key") => {
            return Err(AccountError::EmailTaken);
        }
        Err(e) => return Err(e.into()),
    };
    load_user(pool, user_id)
        .await?
        .ok_or(AccountError::Database(sqlx::Error::RowNotFound))
}

/// Checks an email and password; rate-limited per email.
pub async fn log_in(
    pool: &PgPool,
    raw_email: &str,
    password: &str,
    ip: Option<&str>,
    now: OffsetDateTime,
) -> Result<CurrentUser, AccountError> {
    // An unparseable email cannot match an account: same answer as a wrong password.
    let email = raw_email.trim().to_lowercase();
    let (failures, oldest) =
        store::accounts::login_failures_since(pool, &email, now - FAILURE_WINDOW).await?;
    if failures >= MAX_FAILURES {
        let retry_after = oldest.map_or(FAILURE_WINDOW, |t| t + FAILURE_WINDOW - now);
        return Err(AccountError::TooManyAttempts { retry_after });
    }
    let row = store::accounts::find_user_by_email(pool, &email).await?;
    let hash = row.as_ref().map(|r| r.password_hash.clone());
    let ok = verify_password(password.to_owned(), hash).await?;
    match row {
        Some(row) if ok => {
            store::accounts::record_login(pool, row.id, &email).await?;
            CurrentUser::from_row(row)
        }
        _ => {
            store::accounts::record_login_failure(pool, &email, ip).await?;
            Err(AccountError::InvalidCredentials)
        }
    }
}

/// Loads the user a session points at; `None` if they no longer exist.
pub async fn load_user(pool: &PgPool, user_id: Uuid) -> Result<Option<CurrentUser>, AccountError> {
    match store::accounts::find_user(pool, user_id).await? {
        Some(row) => CurrentUser::from_row(row).map(Some),
        None => Ok(None),
    }
}

/// Hashes a new password (argon2id, on the blocking pool).
pub(crate) async fn hash_password(password: Password) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.0.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AccountError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| AccountError::Hash(e.to_string()))?
}

/// Verifies `password` against `hash`; with no hash (unknown email) it verifies
/// against a fixed dummy so both cases cost the same.
async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AccountError> {
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&hash).map_err(|e| AccountError::Hash(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AccountError::Hash(e.to_string()))?
}

/// A well-formed argon2id hash (default parameters) that no known password matches.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AKsbZ2mUTE9jSvr5nEbgTnmeYgx7Nrl6R2f3K0QH1ws";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ana@Example.COM ").unwrap().as_str(),
            "ana@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "ana@.com",
            "a@b@c.com",
        ] {
            assert!(
                matches!(Email::parse(bad), Err(AccountError::InvalidEmail)),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn short_passwords_are_refused_and_never_printed() {
        assert!(matches!(
            Password::parse("short"),
            Err(AccountError::PasswordTooShort)
        ));
        let password = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn only_viewers_cannot_write() {
        assert!(Role::Owner.can_write() && Role::Admin.can_write());
        assert!(!Role::Viewer.can_write());
        for role in [Role::Owner, Role::Admin, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[tokio::test]
    async fn failures_older_than_the_window_no_longer_count() {
        let (_, pool) = crate::testing::fresh_database().await;
        let form = SignUp {
            org_name: "Acme".into(),
            name: "Ana".into(),
            email: Email::parse("ana@example.com").unwrap(),
            password: Password::parse("correct horse battery").unwrap(),
        };
        sign_up(&pool, form).await.unwrap();
        let now = OffsetDateTime::now_utc();
        for _ in 0..MAX_FAILURES {
            let err = log_in(&pool, "ana@example.com", "wrong", None, now)
                .await
                .unwrap_err();
            assert!(matches!(err, AccountError::InvalidCredentials), "{err:?}");
        }
        let blocked = log_in(&pool, "ana@example.com", "correct horse battery", None, now).await;
        assert!(
            matches!(blocked, Err(AccountError::TooManyAttempts { .. })),
            "{blocked:?}"
        );

        let later = now + FAILURE_WINDOW + Duration::seconds(1);
        let user = log_in(
            &pool,
            "ana@example.com",
            "correct horse battery",
            None,
            later,
        )
        .await
        .unwrap();
        assert_eq!(user.email, "ana@example.com");
        assert_eq!(user.role, Role::Owner);
    }

    #[tokio::test]
    async fn a_successful_log_in_clears_earlier_failures() {
        let (_, pool) = crate::testing::fresh_database().await;
        let form = SignUp {
            org_name: "Acme".into(),
            name: String::new(),
            email: Email::parse("bo@example.com").unwrap(),
            password: Password::parse("correct horse battery").unwrap(),
        };
        sign_up(&pool, form).await.unwrap();
        let now = OffsetDateTime::now_utc();
        for _ in 0..MAX_FAILURES - 1 {
            let _ = log_in(&pool, "bo@example.com", "wrong", None, now).await;
        }
        log_in(&pool, "bo@example.com", "correct horse battery", None, now)
            .await
            .unwrap();
        let (failures, _) =
            store::accounts::login_failures_since(&pool, "bo@example.com", now - FAILURE_WINDOW)
                .await
                .unwrap();
        assert_eq!(failures, 0);
    }

    #[test]
    fn the_dummy_hash_is_a_valid_argon2id_hash() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(
            Argon2::default()
                .verify_password(b"anything", &parsed)
                .is_err()
        );
    }
}
