using System.Text;

namespace Slimta.Plugins.Rackspace.Tests.FakeRackspace;

/// <summary>One response of the fake server.</summary>
public sealed record FakeHttpResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public static FakeHttpResponse Empty(int status, params KeyValuePair<string, string>[] headers) => new(status, headers, []);

    public static FakeHttpResponse Json(int status, string json, params KeyValuePair<string, string>[] headers) =>
        new(status, [new("Content-Type", "application/json; charset=UTF-8"), .. headers], Encoding.UTF8.GetBytes(json));

    public static FakeHttpResponse Text(int status, string text) =>
        new(status, [new("Content-Type", "text/plain; charset=UTF-8")], Encoding.UTF8.GetBytes(text));
}
