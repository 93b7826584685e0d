namespace Slimta.Host.Tests.Configuration;

/// <summary>One full configuration written in YAML and in TOML; both must bind to equal models.</summary>
internal static class SampleConfigs
{
    public const string Yaml = """
        # Anchors live under an unknown top-level key, as slimta users keep them.
        tls: &tls
          certfile: cert.pem
          keyfile: key.pem

        process:
          slimta:
            daemon: false
            hostname: mail
            fqdn: mail.example.com
            pid_file: /run/slimta.pid
            user: mail
            group: mail
            logging:
              level: debug
              format: json

        edge:
          inbound:
            type: smtp
            queue: outbound
            listener:
              interface: 127.0.0.1
              port: 2525
            max_size: 10485760
            tls: *tls
            rules:
              banner: "{fqdn} ESMTP"
              only_recipients: [postmaster@example.com, abuse@example.com]

        queue:
          outbound:
            type: memory
            relay: outbound
            bounce_queue: bounces
            policies:
              - type: add_date_header
              - type: forward
                mapping:
                  '^(.*)@old\.example$': '\1@example.com'
            retry:
              delay: "min(60*pow(2, x), 3600)"
              maximum: 5
          bounces:
            type: memory
            relay: local
            retry:
              delay: 300*x

        relay:
          outbound:
            type: static
            host: smtp.example.com
            port: 587
            tls: *tls
            connect_timeout: 2.5
          local:
            type: maildir
            path: /var/mail

        plugins:
          - plugins
        """;

    public const string Toml = """
        plugins = ["plugins"]

        [tls]
        certfile = "cert.pem"
        keyfile = "key.pem"

        [process.slimta]
        daemon = false
        hostname = "mail"
        fqdn = "mail.example.com"
        pid_file = "/run/slimta.pid"
        user = "mail"
        group = "mail"
        logging = { level = "debug", format = "json" }

        [edge.inbound]
        type = "smtp"
        queue = "outbound"
        listener = { interface = "127.0.0.1", port = 2525 }
        max_size = 10485760
        tls = { certfile = "cert.pem", keyfile = "key.pem" }

        [edge.inbound.rules]
        banner = "{fqdn} ESMTP"
        only_recipients = ["postmaster@example.com", "abuse@example.com"]

        [queue.outbound]
        type = "memory"
        relay = "outbound"
        bounce_queue = "bounces"
        retry = { delay = "min(60*pow(2, x), 3600)", maximum = 5 }

        [[queue.outbound.policies]]
        type = "add_date_header"

        [[queue.outbound.policies]]
        type = "forward"
        mapping = { '^(.*)@old\.example$' = '\1@example.com' }

        [queue.bounces]
        type = "memory"
        relay = "local"
        retry = { delay = "300*x" }

        [relay.outbound]
        type = "static"
        host = "smtp.example.com"
        port = 587
        tls = { certfile = "cert.pem", keyfile = "key.pem" }
        connect_timeout = 2.5

        [relay.local]
        type = "maildir"
        path = "/var/mail"
        """;

    /// <summary>The smallest valid configuration, for tests that add one thing to it.</summary>
    public const string MinimalYaml = """
        process:
          slimta: {}
        queue:
          main:
            type: memory
        """;
}
