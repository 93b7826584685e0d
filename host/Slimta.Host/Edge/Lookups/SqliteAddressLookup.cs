using Microsoft.Data.Sqlite;

namespace Slimta.Host.Edge.Lookups;

/// <summary>
/// A SQLite lookup table: an address is found when <see cref="Query"/> returns a row. The query
/// takes the address as named parameters <c>:address</c>, <c>:localpart</c> and <c>:domain</c>
/// (also written <c>@…</c> or <c>$…</c>), never by text substitution, so an address cannot inject
/// SQL. The database is opened read-only.
/// </summary>
/// <remarks>Microsoft.Data.Sqlite completes its "async" methods synchronously; a local lookup
/// takes microseconds, so it runs inline.</remarks>
/// <param name="Database">The database file (absolute).</param>
/// <param name="Query">The SELECT to run.</param>
public sealed record SqliteAddressLookup(string Database, string Query) : IAddressLookup
{
    /// <inheritdoc />
    public async ValueTask<bool> ContainsAsync(string address, CancellationToken cancellationToken)
    {
        // DefaultTimeout bounds the wait for a database locked by a writer (seconds).
        var builder = new SqliteConnectionStringBuilder { DataSource = Database, Mode = SqliteOpenMode.ReadOnly, DefaultTimeout = 5 };
        var connection = new SqliteConnection(builder.ConnectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = Query;
                AddIfUsed(command, "address", address);
                AddIfUsed(command, "localpart", LookupKey.LocalPart(address));
                AddIfUsed(command, "domain", LookupKey.Domain(address));
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    return await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static void AddIfUsed(SqliteCommand command, string name, string value)
    {
        foreach (var prefix in ":@$")
        {
            if (command.CommandText.Contains(prefix + name, StringComparison.OrdinalIgnoreCase))
            {
                command.Parameters.AddWithValue(prefix + name, value);
            }
        }
    }
}
