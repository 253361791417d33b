using System.Net;
using System.Net.Sockets;
using System.Text;
using Mulan.Outbound;

namespace Mulan.Tests.Outbound;

/// <summary>
/// quality.md §7 (SSRF): every spelling of a loopback, private, link-local or metadata host is refused by the address it
/// resolves to, and nothing connects; and every step of a fetch has a limit, so a server that stalls anywhere ends the
/// fetch with an error naming the step. The servers are real sockets on 127.0.0.1, port 0.
/// </summary>
public sealed class GuardedHttpClientTests
{
    private static readonly OutboundOptions Fast = new()
    {
        DnsTimeoutSeconds = 0.5, ConnectTimeoutSeconds = 0.5, TlsHandshakeTimeoutSeconds = 0.5, FirstByteTimeoutSeconds = 0.5, BodyTimeoutSeconds = 1,
    };

    /// <summary>A listener on 127.0.0.1 that counts the connections it accepts and answers each with a small page.</summary>
    private sealed class CountingServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly TcpListener _listener6 = new(IPAddress.IPv6Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _accepted;

        public CountingServer()
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = AcceptAsync(_listener);
            try
            {
                // The same port on ::1 too, so an IPv6 spelling that got through would be counted as well.
                _listener6.Server.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.IPv6Only, true);
                _listener6.Server.Bind(new IPEndPoint(IPAddress.IPv6Loopback, Port));
                _listener6.Start();
                _ = AcceptAsync(_listener6);
            }
            catch (SocketException)
            {
                // No IPv6 loopback here: IPv4 spellings are still checked.
            }
        }

        public int Port { get; }
        public int Accepted => Volatile.Read(ref _accepted);

        private async Task AcceptAsync(TcpListener listener)
        {
            try
            {
                while (true)
                {
                    using var client = await listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _accepted);
                    await client.GetStream().WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray(), _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            _listener6.Stop();
            _stop.Dispose();
        }
    }

    public static TheoryData<string> LoopbackSpellings => new()
    {
        "localhost", "LOCALHOST", "localhost.", "LocalHost.", "127.0.0.1", "127.0.0.1.", "2130706433", "0x7f.0.0.1", "0x7F.0.0.1", "0177.0.0.1",
        "0177.0.0.01", "127.1", "127.0.1", "0x7f000001", "017700000001", "0x7f.1", "127.000.000.001", "[::1]", "[0:0:0:0:0:0:0:1]",
        "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:0001]", "[::127.0.0.1]", "[::7f00:1]", "[64:ff9b::127.0.0.1]",
        "[64:ff9b::7f00:1]", "[64:ff9b:1::7f00:1]", "[2002:7f00:1::]", "ｌｏｃａｌｈｏｓｔ", "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ", "0.0.0.0", "0", "[::]",
    };

    [Theory]
    [MemberData(nameof(LoopbackSpellings))]
    public async Task Every_spelling_of_loopback_is_refused_and_never_connected(string host)
    {
        await using var server = new CountingServer();
        using var client = new GuardedHttpClient(Fast);
        Uri url;
        try
        {
            url = new Uri($"http://{host}:{server.Port}/");
        }
        catch (UriFormatException)
        {
            return; // not a URL at all: nothing can be fetched from it
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync(url, 1024, CancellationToken.None));

        Assert.True(error is BlockedUrlException or HttpRequestException, $"{host}: {error}");
        Assert.Equal(0, server.Accepted);
    }

    [Fact]
    public async Task The_same_server_is_reached_when_the_policy_allows_loopback()
    {
        // The control for the test above: the refusals come from the policy, not from a broken server.
        await using var server = new CountingServer();
        using var client = new GuardedHttpClient(Fast, IPAddress.IsLoopback);

        var (_, _, body) = await client.GetAsync(new Uri($"http://127.1:{server.Port}/"), 1024, CancellationToken.None);

        Assert.Equal("ok", Encoding.ASCII.GetString(body));
        Assert.Equal(1, server.Accepted);
    }

    [Theory]
    // Cloud metadata and its spellings
    [InlineData("169.254.169.254")] [InlineData("2852039166")] [InlineData("0xa9.0xfe.0xa9.0xfe")] [InlineData("0251.0376.0251.0376")]
    [InlineData("169.254.43518")] [InlineData("0xA9FEA9FE")] [InlineData("::ffff:169.254.169.254")] [InlineData("::ffff:a9fe:a9fe")]
    [InlineData("64:ff9b::169.254.169.254")] [InlineData("::169.254.169.254")] [InlineData("2002:a9fe:a9fe::1")] [InlineData("fd00:ec2::254")]
    // Private, CGNAT, this-network, broadcast, multicast, reserved
    [InlineData("10.0.0.1")] [InlineData("0x0a000001")] [InlineData("172.16.0.1")] [InlineData("192.168.1.1")] [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")] [InlineData("0.1.2.3")] [InlineData("255.255.255.255")] [InlineData("224.0.0.1")] [InlineData("240.0.0.1")]
    [InlineData("::ffff:10.0.0.1")] [InlineData("64:ff9b::10.0.0.1")] [InlineData("64:ff9b::c0a8:101")] [InlineData("2002:c0a8:101::")]
    // IPv6 loopback, unspecified, ULA, link-local, site-local, multicast, Teredo, discard, documentation
    [InlineData("::1")] [InlineData("::")] [InlineData("fc00::1")] [InlineData("fd12:3456::1")] [InlineData("fe80::1")] [InlineData("fe80::1%1")]
    [InlineData("fec0::1")] [InlineData("ff02::1")] [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")] [InlineData("100::1")] [InlineData("2001:db8::1")]
    public void Non_public_addresses_in_every_form_are_refused(string literal)
    {
        Assert.True(IPAddress.TryParse(literal, out var address), literal);
        Assert.False(GuardedHttpClient.IsPublic(address), $"{literal} ({address}) should be refused");
    }

    [Theory]
    [InlineData("93.184.215.14")] [InlineData("8.8.8.8")] [InlineData("::ffff:8.8.8.8")] [InlineData("64:ff9b::8.8.8.8")] [InlineData("2606:4700::1111")]
    [InlineData("2002:0808:0808::1")]
    public void Public_addresses_are_allowed(string literal) => Assert.True(GuardedHttpClient.IsPublic(IPAddress.Parse(literal)), literal);

    [Fact]
    public async Task A_name_that_resolves_to_a_private_address_is_refused_at_connect_time()
    {
        await using var server = new CountingServer();
        using var client = new GuardedHttpClient(Fast, resolve: (_, _) => Task.FromResult(new[] { IPAddress.Parse("8.8.8.8"), IPAddress.Loopback }));

        await Assert.ThrowsAsync<BlockedUrlException>(() => client.GetAsync(new Uri($"http://rebinding.example:{server.Port}/"), 1024, CancellationToken.None));
        Assert.Equal(0, server.Accepted);
    }

    [Fact]
    public async Task A_redirect_to_loopback_is_refused()
    {
        // A "public" server (loopback allowed only for its own port by the resolver) redirecting to the metadata address.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            using var c = await listener.AcceptTcpClientAsync();
            await ReadRequestAsync(c.GetStream());
            await c.GetStream().WriteAsync("HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        });
        using var client = new GuardedHttpClient(Fast, a => IPAddress.IsLoopback(a) || GuardedHttpClient.IsPublic(a));

        var error = await Assert.ThrowsAsync<BlockedUrlException>(() => client.GetAsync(new Uri($"http://127.0.0.1:{port}/"), 1024, CancellationToken.None));
        Assert.Contains("169.254.169.254", error.Message);
    }

    [Fact]
    public async Task A_resolver_that_never_answers_is_cut_off_at_the_dns_limit()
    {
        using var client = new GuardedHttpClient(Fast, resolve: (_, ct) => Task.Delay(Timeout.Infinite, CancellationToken.None).ContinueWith(_ => Array.Empty<IPAddress>(), ct));

        var error = await TimesOutAsync(client, new Uri("http://slow-dns.example/"));

        Assert.Contains("DNS resolution", error.Message);
    }

    [Fact]
    public async Task A_server_that_never_accepts_the_connection_is_cut_off_at_the_connect_limit()
    {
        // A listening socket whose accept queue is full: the kernel drops further SYNs, so a connect hangs.
        using var full = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        full.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        full.Listen(0);
        var port = ((IPEndPoint)full.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(s);
                using var cts = new CancellationTokenSource(200);
                try
                {
                    await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
                }
                catch (OperationCanceledException)
                {
                    break; // the queue is full
                }
            }
            using var client = new GuardedHttpClient(Fast, IPAddress.IsLoopback);

            var error = await TimesOutAsync(client, new Uri($"http://127.0.0.1:{port}/"));

            Assert.Contains("connecting", error.Message);
        }
        finally
        {
            fillers.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_server_that_accepts_tcp_but_never_speaks_tls_is_cut_off_at_the_tls_limit()
    {
        await using var server = await StallingServer.StartAsync(async (_, ct) => await Task.Delay(Timeout.Infinite, ct));
        using var client = new GuardedHttpClient(Fast, IPAddress.IsLoopback);

        var error = await TimesOutAsync(client, new Uri($"https://127.0.0.1:{server.Port}/"));

        Assert.Contains("TLS handshake", error.Message);
    }

    [Fact]
    public async Task A_server_that_never_sends_headers_is_cut_off_at_the_first_byte_limit()
    {
        await using var server = await StallingServer.StartAsync(async (stream, ct) =>
        {
            await ReadRequestAsync(stream);
            await Task.Delay(Timeout.Infinite, ct);
        });
        using var client = new GuardedHttpClient(Fast, IPAddress.IsLoopback);

        var error = await TimesOutAsync(client, new Uri($"http://127.0.0.1:{server.Port}/"));

        Assert.Contains("response headers", error.Message);
    }

    [Fact]
    public async Task A_server_that_drips_the_body_is_cut_off_at_the_body_limit()
    {
        await using var server = await StallingServer.StartAsync(async (stream, ct) =>
        {
            await ReadRequestAsync(stream);
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"u8.ToArray(), ct);
            for (var i = 0; i < 100; i++)
            {
                // One byte every 100 ms: each read makes progress, only the whole-body limit can stop it.
                await stream.WriteAsync("x"u8.ToArray(), ct);
                await stream.FlushAsync(ct);
                await Task.Delay(100, ct);
            }
        });
        using var client = new GuardedHttpClient(Fast, IPAddress.IsLoopback);

        var error = await TimesOutAsync(client, new Uri($"http://127.0.0.1:{server.Port}/"));

        Assert.Contains("response body", error.Message);
    }

    [Fact]
    public void Bad_timeouts_are_refused_at_start_naming_the_setting()
    {
        var result = new OutboundOptionsValidatorProbe().Validate(new OutboundOptions { DnsTimeoutSeconds = 0, BodyTimeoutSeconds = double.NaN });

        Assert.Contains(result, e => e.StartsWith("Outbound:DnsTimeoutSeconds", StringComparison.Ordinal));
        Assert.Contains(result, e => e.StartsWith("Outbound:BodyTimeoutSeconds", StringComparison.Ordinal));
    }

    private sealed class OutboundOptionsValidatorProbe
    {
        public IReadOnlyList<string> Validate(OutboundOptions o) =>
            [.. new OutboundOptionsValidator().Validate(null, o).Failures ?? []];
    }

    /// <summary>The fetch fails with an <see cref="OutboundTimeoutException"/> soon after the limit, never hangs.</summary>
    private static async Task<OutboundTimeoutException> TimesOutAsync(GuardedHttpClient client, Uri url)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var fetch = client.GetAsync(url, 1024 * 1024, CancellationToken.None);
        var error = await Assert.ThrowsAsync<OutboundTimeoutException>(() => fetch.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        return error;
    }

    private static async Task ReadRequestAsync(Stream stream)
    {
        var buffer = new byte[4096];
        var seen = new StringBuilder();
        while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0)
            {
                return;
            }
            seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
    }

    /// <summary>A TCP server on 127.0.0.1:0 that runs <c>behave</c> on each connection.</summary>
    private sealed class StallingServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();

        private StallingServer(TcpListener listener) => _listener = listener;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static Task<StallingServer> StartAsync(Func<Stream, CancellationToken, Task> behave)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var server = new StallingServer(listener);
            _ = Task.Run(async () =>
            {
                while (!server._stop.IsCancellationRequested)
                {
                    TcpClient c;
                    try
                    {
                        c = await listener.AcceptTcpClientAsync(server._stop.Token);
                    }
                    catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                    {
                        return;
                    }
                    _ = Task.Run(async () =>
                    {
                        using (c)
                        {
                            try
                            {
                                await behave(c.GetStream(), server._stop.Token);
                            }
                            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
                            {
                            }
                        }
                    });
                }
            });
            return Task.FromResult(server);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
