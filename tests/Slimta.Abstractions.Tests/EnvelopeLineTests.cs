using System.Net;
using System.Text;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Abstractions.Tests;

public sealed class EnvelopeLineTests
{
    [Fact]
    public void EncodeDecode_EveryField_RoundTripsAndKeepsBytes()
    {
        var message = Encoding.UTF8.GetBytes("Subject: h\u00e9\r\n\r\nline\nwith bare LF\r\n");
        var envelope = new Envelope("s\u00e9nder@example.test", ["a@example.test", "b@example.test"], new RawMessage(message))
        {
            Client = new ClientInfo(IPAddress.Parse("2001:db8::1"), 2525, "rdns.example.test", "ehlo\nname", "ESMTPSA", "user"),
            ReceivedAt = new DateTimeOffset(2026, 11, 29, 1, 2, 3, 456, TimeSpan.FromHours(2)),
            SmtpUtf8 = true,
            BodyType = "8BITMIME",
        };

        var blob = EnvelopeLine.Encode(envelope, 1);
        int newline = Array.IndexOf(blob, (byte)'\n');
        Assert.Equal(message, blob[(newline + 1)..]);
        var back = EnvelopeLine.Decode("id1", blob, 1, "object id1");

        Assert.Equal("id1", back.Id);
        Assert.Equal(envelope.Sender, back.Sender);
        Assert.Equal(envelope.Recipients, back.Recipients);
        Assert.Equal(envelope.Client, back.Client);
        Assert.Equal(envelope.ReceivedAt, back.ReceivedAt);
        Assert.Equal(envelope.ReceivedAt.Offset, back.ReceivedAt.Offset);
        Assert.True(back.SmtpUtf8);
        Assert.Equal("8BITMIME", back.BodyType);
        Assert.Equal(message, back.Message.Bytes.ToArray());
    }

    [Theory]
    [InlineData("no line at all", "object x has no envelope line")]
    [InlineData("{not json\nbody", "object x has an unreadable envelope")]
    [InlineData("{\"v\":2}\nbody", "object x has layout version 2, this build reads 1")]
    public void Decode_BadBlob_InvalidDataNamingTheObject(string blob, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => EnvelopeLine.Decode("x", Encoding.UTF8.GetBytes(blob), 1, "object x"));
        Assert.StartsWith(expected, e.Message);
    }
}
