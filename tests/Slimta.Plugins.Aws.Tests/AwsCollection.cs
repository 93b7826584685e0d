namespace Slimta.Plugins.Aws.Tests;

/// <summary>Every test class shares one pair of emulators and runs one after another (the machine has two cores).</summary>
[CollectionDefinition(Name)]
public sealed class AwsCollection : ICollectionFixture<AwsFixture>
{
    public const string Name = "aws emulators";
}
