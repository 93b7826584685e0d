using System.IO.Pipelines;

namespace Slimta.Host.Edge;

/// <summary>A reader and a writer over one connection, as the SMTP session expects them.</summary>
internal sealed class StreamDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
