using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// What a <see cref="WaitingDelivery"/> is handed: see <see cref="HandoffKind"/>. A chained
/// delivery with <see cref="Window"/> holds an open window (its message goes in one write).
/// </summary>
internal readonly record struct Handoff(HandoffKind Kind, SmtpClient? Client = null, SmtpClientTransaction? Transaction = null, DestinationResult? Result = null, bool Window = false);
