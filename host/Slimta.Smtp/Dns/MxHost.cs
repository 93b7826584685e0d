namespace Slimta.Smtp.Dns;

/// <summary>One MX record.</summary>
/// <param name="Preference">Lower is preferred.</param>
/// <param name="Exchange">The mail exchanger's host name, without the trailing dot.</param>
public sealed record MxHost(int Preference, string Exchange);
