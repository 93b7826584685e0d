using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// The result of one attempt at one destination. <see cref="NoSession"/> is true when no session
/// could be opened (refused, timed out, 4xx/5xx greeting or EHLO, TLS or AUTH trouble): nothing
/// was sent, so the mx relay may try the next mail exchanger.
/// </summary>
internal readonly record struct DestinationResult(RelayResult Result, bool NoSession);
