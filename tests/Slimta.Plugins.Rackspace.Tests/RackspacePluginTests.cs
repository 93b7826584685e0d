using System.Reflection;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Testing;
using static Slimta.Plugins.Rackspace.Tests.RackspaceOptions;

namespace Slimta.Plugins.Rackspace.Tests;

public sealed class RackspacePluginTests
{
    private static readonly (string, object)[] Required =
    [
        ("type", "rackspace"), ("username", "u"), ("api_key", "k"), ("container_name", "mail"),
    ];

    private static ConfigException Invalid(params (string, object)[] entries) =>
        Assert.Throws<ConfigException>(() => Factory().Validate(Options(entries)));

    [Fact]
    public void Register_Always_AddsOnlyRackspaceStorage()
    {
        var registry = new RecordingRegistry();
        new RackspacePlugin().Register(registry);
        Assert.Equal(["storage:rackspace"], registry.Registered);
    }

    [Fact]
    public void Assembly_Always_NamesRackspacePluginAsEntryType()
    {
        var attribute = typeof(RackspacePlugin).Assembly.GetCustomAttribute<SlimtaPluginAttribute>();
        Assert.Equal(typeof(RackspacePlugin), attribute?.EntryType);
    }

    [Fact]
    public void Validate_EveryKey_Passes()
    {
        Factory().Validate(Options(
            ("type", "rackspace"), ("endpoint", "https://identity.example/v2.0/"), ("username", "u"), ("password", "p"),
            ("tenant_id", "123"), ("region", "IAD"), ("tls", new (string, object)[] { ("verify", "true"), ("ca_file", "ca.pem") }),
            ("container_name", "mail"), ("queue_name", "slimta-queue_1"), ("timeout", "10"), ("lease", "120"), ("grace", "300"), ("notice_ttl", "86400")));
    }

    [Fact]
    public void Parse_SeedSpellingEndoint_IsTheEndpoint()
    {
        var settings = RackspaceSettings.Parse(Options([.. Required, ("endoint", "http://127.0.0.1:5000/v2.0/")]));
        Assert.Equal(new Uri("http://127.0.0.1:5000/v2.0/"), settings.Endpoint);
    }

    [Fact]
    public void ToString_ApiKeyOrPassword_NeverShown()
    {
        var withKey = RackspaceSettings.Parse(Options([.. Required.Where(e => e.Item1 is not ("api_key" or "password")), ("api_key", "0123456789abcdef-key")]));
        var withPassword = RackspaceSettings.Parse(Options([.. Required.Where(e => e.Item1 is not ("api_key" or "password")), ("password", "hunter2-password")]));

        Assert.DoesNotContain("0123456789abcdef-key", withKey.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-password", withPassword.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoEndpoint_UsesRackspaceIdentity()
    {
        var settings = RackspaceSettings.Parse(Options(Required));
        Assert.Equal(new Uri(RackspaceSettings.DefaultEndpoint), settings.Endpoint);
        Assert.Null(settings.QueueName);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.Lease);
    }

    [Fact]
    public void Validate_EndpointAndEndoint_ThrowsNamingEndoint()
    {
        var e = Invalid([.. Required, ("endpoint", "http://a/v2.0/"), ("endoint", "http://b/v2.0/")]);
        Assert.Equal("queue.q.endoint", e.KeyPath);
    }

    [Fact]
    public void Validate_UnknownKey_ThrowsNamingKey()
    {
        var e = Invalid([.. Required, ("contianer_name", "x")]);
        Assert.Equal("queue.q.contianer_name", e.KeyPath);
    }

    [Fact]
    public void Validate_NeitherApiKeyNorPassword_ThrowsNamingApiKey()
    {
        var e = Invalid(("type", "rackspace"), ("username", "u"), ("container_name", "mail"));
        Assert.Equal("queue.q.api_key", e.KeyPath);
    }

    [Fact]
    public void Validate_ApiKeyAndPassword_ThrowsNamingPassword()
    {
        var e = Invalid([.. Required, ("password", "p")]);
        Assert.Equal("queue.q.password", e.KeyPath);
    }

    [Fact]
    public void Validate_MissingContainer_ThrowsNamingContainer()
    {
        var e = Invalid(("type", "rackspace"), ("username", "u"), ("api_key", "k"));
        Assert.Equal("queue.q", e.KeyPath);
        Assert.Contains("container_name", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("endpoint", "ftp://identity/")]
    [InlineData("queue_name", "has space")]
    [InlineData("container_name", "a/b")]
    [InlineData("lease", "30")]
    [InlineData("grace", "50000")]
    [InlineData("notice_ttl", "2000000")]
    [InlineData("timeout", "0")]
    public void Validate_BadValue_ThrowsNamingKey(string key, string value)
    {
        var entries = Required.Where(e => e.Item1 != key).Append((key, (object)value)).ToArray();
        var e = Invalid(entries);
        Assert.Equal("queue.q." + key, e.KeyPath);
    }

    [Fact]
    public void Validate_UnknownTlsKey_ThrowsNamingIt()
    {
        var e = Invalid([.. Required, ("tls", new (string, object)[] { ("verfiy", "false") })]);
        Assert.Equal("queue.q.tls.verfiy", e.KeyPath);
    }

    [Fact]
    public void Parse_SeedTlsCaCerts_IsTheCaFile()
    {
        var settings = RackspaceSettings.Parse(Options([.. Required, ("tls", new (string, object)[] { ("ca_certs", "/etc/ssl/ca.pem") })]));
        Assert.Equal("/etc/ssl/ca.pem", settings.Tls.CaFile);
        Assert.True(settings.Tls.Verify);
    }

    [Fact]
    public void Create_MissingCaFile_ThrowsNamingCaFile()
    {
        var options = Options([.. Required, ("tls", new (string, object)[] { ("ca_file", "/nonexistent/ca.pem") })]);
        var e = Assert.Throws<ConfigException>(() => Create(options));
        Assert.Equal("queue.q.tls.ca_file", e.KeyPath);
    }

    [Fact]
    public void Create_WithoutQueueName_IsNotShared()
    {
        var storage = Create(Options(Required));
        Assert.IsNotAssignableFrom<Abstractions.Queueing.ISharedQueueStorage>(storage);
        var shared = Create(Options([.. Required, ("queue_name", "q")]));
        Assert.IsAssignableFrom<Abstractions.Queueing.ISharedQueueStorage>(shared);
    }

    [Theory]
    [InlineData("0-2,5", new[] { 0, 1, 2, 5 })]
    [InlineData("", new int[0])]
    [InlineData("7", new[] { 7 })]
    public void ParseRanges_Text_Indexes(string text, int[] expected)
    {
        Assert.Equal(expected, ObjectMetadata.ParseRanges(text).Order());
        Assert.Equal(text, ObjectMetadata.FormatRanges(new HashSet<int>(expected)));
    }

    [Fact]
    public void ToHeaders_ManyAlternatingIndexes_SplitsIntoValuesOf256()
    {
        var delivered = new HashSet<int>(Enumerable.Range(0, 400).Select(i => i * 2));
        var meta = new ObjectMetadata(DateTimeOffset.UnixEpoch, 3, delivered);
        var headers = meta.ToHeaders().ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase);
        Assert.True(headers.Count > 3);
        Assert.All(headers.Values, v => Assert.True(v.Length <= 256));
        var back = ObjectMetadata.FromHeaders(headers.GetValueOrDefault);
        Assert.NotNull(back);
        Assert.Equal(delivered.Order(), back.Delivered.Order());
        Assert.Equal(3, back.Attempts);
    }
}
