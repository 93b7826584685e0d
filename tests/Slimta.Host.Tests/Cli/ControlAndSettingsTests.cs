using Slimta.Abstractions.Configuration;
using Slimta.Host.Cli;
using Slimta.Host.Configuration;
using Slimta.Host.Control;

namespace Slimta.Host.Tests.Cli;

public sealed class ControlAndSettingsTests
{
    private static ProcessConfig Process(string yaml)
    {
        var config = ConfigLoader.LoadText($"process:\n  slimta: {yaml}\nqueue:\n  q: {{type: memory}}\n", "yaml", "test.yaml", "/etc/slimta");
        return config.Processes["slimta"];
    }

    [Fact]
    public void ControlRequest_RoundTrip_SameRequest()
    {
        var request = new ControlRequest("hold", "inbound", "0123456789abcdef0123456789abcdef");
        Assert.Equal(request, ControlRequest.Parse(request.ToJson()));
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[1]", "JSON object")]
    [InlineData("{\"queue\":\"q\"}", "no \"command\"")]
    [InlineData("{\"command\":\"rm -rf\"}", "unknown command")]
    public void ControlRequest_Bad_FormatExceptionWithReason(string line, string reason)
    {
        var e = Assert.Throws<FormatException>(() => ControlRequest.Parse(line));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void ControlSocket_Configured_RelativeToConfigDirectory()
    {
        var (path, isExplicit) = ProcessSettings.ControlSocket(Process("{control_socket: run/ctl.sock}"), "/etc/slimta", null);
        Assert.Equal("/etc/slimta/run/ctl.sock", path);
        Assert.True(isExplicit);
        Assert.Null(ProcessSettings.ControlSocket(Process("{control_socket: \"\"}"), "/etc/slimta", null).Path);
    }

    [Fact]
    public void ControlSocket_Default_NextToThePidFile()
    {
        var (path, isExplicit) = ProcessSettings.ControlSocket(Process("{pid_file: /run/slimta/slimta.pid}"), "/etc/slimta", "/run/slimta/slimta.pid");
        Assert.Equal("/run/slimta/slimta.sock", path);
        Assert.False(isExplicit);
    }

    [Fact]
    public void ControlSocket_TooLong_ConfigErrorNamingTheKey()
    {
        var e = Assert.Throws<ConfigException>(() => ProcessSettings.ControlSocket(Process($"{{control_socket: /{new string('x', 120)}}}"), "/", null));
        Assert.Contains("process.slimta.control_socket", e.Message);
    }

    [Fact]
    public void ShutdownTimeout_DefaultAndConfigured()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), ProcessSettings.ShutdownTimeout(Process("{}")));
        Assert.Equal(TimeSpan.FromSeconds(5), ProcessSettings.ShutdownTimeout(Process("{shutdown_timeout: 5}")));
        var e = Assert.Throws<ConfigException>(() => ProcessSettings.ShutdownTimeout(Process("{shutdown_timeout: 0}")));
        Assert.Contains("process.slimta.shutdown_timeout", e.Message);
    }

    [Fact]
    public void SetupSample_Loads()
    {
        var config = ConfigLoader.LoadText(SetupCommand.SampleConfig, "yaml", "slimta.conf", "/tmp");
        Assert.Equal("disk", config.Queues["inbound"].Type);
        Assert.Contains("slimta", config.Processes.Keys);
    }

    [Fact]
    public void CommandLine_Check_Parsed()
    {
        Assert.True(CommandLineOptions.Parse(["--check", "-c", "x.conf"]).Check);
    }
}
