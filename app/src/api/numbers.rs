//! The Numbers page: the Twilio account's numbers, and assigning one to an agent — which claims
//! it for the organization and points its `VoiceUrl` and `StatusCallback` at our webhooks — or
//! releasing it, which first clears both on Twilio. Numbers another organization holds are
//! neither listed nor assignable.
//!
//! Webhook addresses come from `PUBLIC_BASE_URL` when it is set, otherwise from the request's
//! `X-Forwarded-Proto`/`X-Forwarded-Host` or `Host` (what the person at the dashboard used),
//! the same rule the Twilio webhooks verify signatures with.

use leptos::prelude::*;

use crate::dto::numbers::NumbersView;
use crate::error::AppError;

/// The numbers this organization may see, its agents, and what is wrong with Twilio, if anything.
#[server(prefix = "/api", endpoint = "numbers/list")]
pub async fn list_numbers() -> Result<NumbersView, AppError> {
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    numbers_ssr::load(&context, &user).await
}

/// Assigns the Twilio number `number_sid` to agent `agent_id` and points it at our webhooks.
#[server(prefix = "/api", endpoint = "numbers/assign")]
pub async fn assign_number(number_sid: String, agent_id: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    numbers_ssr::assign(&context, &user, number_sid.trim(), agent_id.trim()).await
}

/// Unassigns a number: Twilio stops sending its calls to us, then it is released for any
/// organization to claim. If Twilio cannot be told, the number stays assigned and the error
/// says so, so that it never keeps ringing our webhook unseen.
#[server(prefix = "/api", endpoint = "numbers/unassign")]
pub async fn unassign_number(number_id: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let id = number_id.parse().map_err(|_| AppError::NotFound)?;
    numbers_ssr::unassign(&context, &user, id).await
}

#[cfg(feature = "ssr")]
use crate::api::ssr;

#[cfg(feature = "ssr")]
pub(crate) mod numbers_ssr {
    use std::collections::HashSet;

    use switchboard::accounts::CurrentUser;
    use switchboard::store::phone_numbers::{self as store, TwilioNumber};
    use switchboard::twilio::paths::{STATUS_PATH, VOICE_PATH};
    use switchboard::twilio::signature::{ForwardedHeaders, UrlKind, public_url};
    use switchboard::twilio_rest::{IncomingNumber, TwilioRest, TwilioRestError};

    use crate::api::ssr::{self, ServerContext};
    use crate::dto::numbers::{AgentOption, NumberView, NumbersView};
    use crate::error::AppError;

    const NOT_CONFIGURED: &str = "Twilio is not configured. Set TWILIO_ACCOUNT_SID and \
         TWILIO_AUTH_TOKEN, then restart Switchboard, to list and assign your numbers.";
    const TAKEN: &str = "This number is already in use by another organization.";
    const STILL_ASSIGNED: &str = "The number is still assigned: Twilio must stop sending its \
         calls here first.";

    /// The absolute address of `path` on this server, as seen from outside.
    pub(crate) fn public_address(context: &ServerContext, path: &str) -> Result<String, AppError> {
        let parts = leptos::prelude::use_context::<axum::http::request::Parts>();
        let header = |name: &str| {
            parts
                .as_ref()
                .and_then(|p| p.headers.get(name))
                .and_then(|v| v.to_str().ok())
        };
        let forwarded = ForwardedHeaders {
            forwarded_proto: header("x-forwarded-proto"),
            forwarded_host: header("x-forwarded-host"),
            host: header("host"),
        };
        public_url(
            context.public_base_url.as_deref(),
            &forwarded,
            path,
            UrlKind::Http,
        )
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot build a public address");
            AppError::Invalid(
                "Set PUBLIC_BASE_URL to the https address this server is reachable at.".into(),
            )
        })
    }

    /// A sentence for the person at the dashboard; the details are logged by the client.
    fn twilio_message(error: &TwilioRestError) -> String {
        match error {
            TwilioRestError::Unauthorized { .. } => "Twilio refused the account SID and auth \
                 token. Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
                .into(),
            e if e.is_retryable() => {
                "Twilio could not be reached just now. Try again in a moment.".into()
            }
            e => format!("Twilio answered with an error: {e}"),
        }
    }

    fn twilio(context: &ServerContext) -> Result<&TwilioRest, AppError> {
        context
            .twilio
            .as_ref()
            .ok_or_else(|| AppError::Invalid(NOT_CONFIGURED.into()))
    }

    async fn account_numbers(context: &ServerContext) -> Result<Vec<IncomingNumber>, AppError> {
        twilio(context)?
            .list_incoming_numbers()
            .await
            .map_err(|e| AppError::Invalid(twilio_message(&e)))
    }

    pub(super) async fn load(
        context: &ServerContext,
        user: &CurrentUser,
    ) -> Result<NumbersView, AppError> {
        let pool = &context.pool;
        let held = store::list(pool, user.org_id)
            .await
            .map_err(ssr::internal)?;
        let agents = store::agent_options(pool, user.org_id)
            .await
            .map_err(ssr::internal)?
            .into_iter()
            .map(|a| AgentOption {
                id: a.id.to_string(),
                name: a.name,
            })
            .collect();
        let held_view =
            |n: &store::OrgNumber, twilio_sid: String, voice_url: Option<String>| NumberView {
                e164: n.e164.clone(),
                friendly_name: n.friendly_name.clone(),
                twilio_sid,
                number_id: Some(n.id.to_string()),
                agent_id: n.agent_id.map(|id| id.to_string()),
                agent_name: n.agent_name.clone(),
                voice_url,
            };
        let (mut numbers, twilio_problem) = match account_numbers(context).await {
            Ok(incoming) => {
                let e164s: Vec<String> = incoming.iter().map(|n| n.phone_number.clone()).collect();
                let elsewhere: HashSet<String> =
                    store::claimed_elsewhere(pool, user.org_id, &e164s)
                        .await
                        .map_err(ssr::internal)?
                        .into_iter()
                        .collect();
                let in_account: HashSet<&str> = e164s.iter().map(String::as_str).collect();
                let mut numbers: Vec<NumberView> = incoming
                    .iter()
                    .filter(|n| !elsewhere.contains(&n.phone_number))
                    .map(|n| match held.iter().find(|h| h.e164 == n.phone_number) {
                        Some(h) => held_view(h, n.sid.clone(), n.voice_url.clone()),
                        None => NumberView {
                            e164: n.phone_number.clone(),
                            friendly_name: n.friendly_name.clone(),
                            twilio_sid: n.sid.clone(),
                            number_id: None,
                            agent_id: None,
                            agent_name: None,
                            voice_url: n.voice_url.clone(),
                        },
                    })
                    .collect();
                // Held but gone from the account (released in Twilio's console): still shown,
                // so it can be unassigned here.
                numbers.extend(
                    held.iter()
                        .filter(|h| !in_account.contains(h.e164.as_str()))
                        .map(|h| held_view(h, String::new(), None)),
                );
                (numbers, None)
            }
            Err(AppError::Invalid(problem)) => {
                let numbers = held
                    .iter()
                    .map(|h| held_view(h, h.twilio_sid.clone().unwrap_or_default(), None))
                    .collect();
                (numbers, Some(problem))
            }
            Err(other) => return Err(other),
        };
        numbers.sort_by(|a, b| a.e164.cmp(&b.e164));
        Ok(NumbersView {
            numbers,
            agents,
            twilio_problem,
            voice_url: public_address(context, VOICE_PATH).ok(),
            can_write: user.role.can_write(),
        })
    }

    pub(super) async fn assign(
        context: &ServerContext,
        user: &CurrentUser,
        number_sid: &str,
        agent_id: &str,
    ) -> Result<(), AppError> {
        let pool = &context.pool;
        let agent_id = agent_id.parse().map_err(|_| {
            AppError::field("agent_id", "Choose the agent that answers this number.")
        })?;
        if !store::agent_exists(pool, user.org_id, agent_id)
            .await
            .map_err(ssr::internal)?
        {
            return Err(AppError::field(
                "agent_id",
                "Choose the agent that answers this number.",
            ));
        }
        let twilio = twilio(context)?;
        let incoming = account_numbers(context).await?;
        let number = incoming
            .iter()
            .find(|n| n.sid == number_sid)
            .ok_or_else(|| {
                AppError::Invalid("This number is not in your Twilio account.".into())
            })?;
        let voice_url = public_address(context, VOICE_PATH)?;
        let status_url = public_address(context, STATUS_PATH)?;

        // The claim commits only once Twilio has taken the new addresses.
        let mut tx = pool.begin().await.map_err(ssr::internal)?;
        let claimed = store::claim(
            &mut *tx,
            user.org_id,
            TwilioNumber {
                e164: &number.phone_number,
                sid: &number.sid,
                friendly_name: &number.friendly_name,
            },
            agent_id,
        )
        .await
        .map_err(ssr::internal)?;
        let Some(number_id) = claimed else {
            return Err(AppError::Invalid(TAKEN.into()));
        };
        twilio
            .configure_number(&number.sid, &voice_url, &status_url)
            .await
            .map_err(|e| AppError::Invalid(twilio_message(&e)))?;
        tx.commit().await.map_err(ssr::internal)?;
        tracing::info!(%number_id, %agent_id, org_id = %user.org_id, "number assigned");
        Ok(())
    }

    pub(super) async fn unassign(
        context: &ServerContext,
        user: &CurrentUser,
        number_id: uuid::Uuid,
    ) -> Result<(), AppError> {
        // The release commits only once Twilio has dropped our addresses.
        let mut tx = context.pool.begin().await.map_err(ssr::internal)?;
        let released = store::release(&mut *tx, user.org_id, number_id)
            .await
            .map_err(ssr::internal)?;
        let Some(sid) = released else {
            return Err(AppError::NotFound);
        };
        if let Some(sid) = sid.filter(|sid| !sid.is_empty()) {
            let twilio = context
                .twilio
                .as_ref()
                .ok_or_else(|| AppError::Invalid(format!("{STILL_ASSIGNED} {NOT_CONFIGURED}")))?;
            match twilio.clear_number(&sid).await {
                Ok(_) => {}
                // Gone from the account (released in Twilio's console): nothing points at us.
                Err(TwilioRestError::NotFound { .. }) => {}
                Err(e) => {
                    return Err(AppError::Invalid(format!(
                        "{STILL_ASSIGNED} {}",
                        twilio_message(&e)
                    )));
                }
            }
        }
        tx.commit().await.map_err(ssr::internal)?;
        tracing::info!(%number_id, org_id = %user.org_id, "number released");
        Ok(())
    }
}
