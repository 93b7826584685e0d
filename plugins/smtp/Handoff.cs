using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>What a <see cref="WaitingDelivery"/> is handed: see <see cref="HandoffKind"/>.</summary>
internal readonly record struct Handoff(HandoffKind Kind, SmtpClient? Client = null, SmtpClientTransaction? Transaction = null, DestinationResult? Result = null);
