//! Where Twilio reaches us: the webhook paths, shared by the server's router and the dashboard
//! code that points a number at them. Pure constants.

/// The inbound-call webhook (`VoiceUrl` of an assigned number).
pub const VOICE_PATH: &str = "/twilio/voice";

/// The call-status callback (`StatusCallback` of an assigned number and of outbound calls).
pub const STATUS_PATH: &str = "/twilio/status";

/// Where Twilio posts when a call's recording is ready.
pub const RECORDING_PATH: &str = "/twilio/recording";
