// SASL DIGEST-MD5 with Apache ZooKeeper's Java client (Debian's libzookeeper-java) and JAAS, as ZooKeeper documents it:
// the server's JAAS "Server" section lists user_bob="bobsecret" and user_super="supersecret", and the server runs with
// zookeeper.superUser=super (Apache ZooKeeper also needs authProvider.1=...SASLAuthenticationProvider).
// usage: java -cp ZOOKEEPER_JARS SaslDigest.java HOST:PORT
// Prints PASS/FAIL per check and "N passed, M failed"; exits 0 only when every check passed.
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;

public class SaslDigest {
    static int passed;
    static int failed;

    static void check(String name, boolean ok, String detail) {
        if (ok) {
            passed++;
            System.out.println("PASS " + name);
            System.out.flush();
        } else {
            failed++;
            System.out.println("FAIL " + name + ": " + detail);
        }
    }

    /** A client whose login comes from the named JAAS section (null: no SASL), and the states it went through. */
    record Client(ZooKeeper zk, BlockingQueue<KeeperState> states) {
        boolean reaches(KeeperState wanted) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            for (KeeperState s; (s = states.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) != null; ) {
                if (s == wanted) {
                    return true;
                }
            }
            return false;
        }
    }

    static Client connect(String hosts, String section) throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        if (section == null) {
            config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        } else {
            config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, section);
        }
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        ZooKeeper zk = new ZooKeeper(hosts, 10000, e -> states.add(e.getState()), config);
        return new Client(zk, states);
    }

    public static void main(String[] args) throws Exception {
        String hosts = args[0];
        Path jaas = Files.createTempFile("sasl-client", ".jaas");
        Files.writeString(jaas, """
            Bob { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="bobsecret"; };
            Wrong { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="guess"; };
            Super { org.apache.zookeeper.server.auth.DigestLoginModule required username="super" password="supersecret"; };
            """, StandardCharsets.UTF_8);
        System.setProperty("java.security.auth.login.config", jaas.toString());
        String root = "/sasl-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            run(hosts, root);
        } finally {
            Files.deleteIfExists(jaas);
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }

    static void run(String hosts, String root) throws Exception {
        Client bob = connect(hosts, "Bob");
        check("bob authenticates", bob.reaches(KeeperState.SaslAuthenticated), "no SaslAuthenticated event");
        List<ClientInfo> who = bob.zk().whoAmI();
        check("whoAmI names sasl:bob", who.stream().anyMatch(c -> c.getAuthScheme().equals("sasl") && c.getUser().equals("bob")), who.toString());

        // ZooKeeper.validateACL asks the list whether it holds null, which List.of refuses to answer.
        List<ACL> bobOnly = new ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "bob"))));
        bob.zk().create(root, "secret".getBytes(StandardCharsets.UTF_8), bobOnly, CreateMode.PERSISTENT);
        check("bob reads his node", new String(bob.zk().getData(root, false, null), StandardCharsets.UTF_8).equals("secret"), "");
        bob.zk().create(root + "/creator", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        List<ACL> expanded = bob.zk().getACL(root + "/creator", null);
        check("the auth scheme becomes sasl:bob", expanded.equals(bobOnly), expanded.toString());

        Client plain = connect(hosts, null);
        check("a client without SASL connects", plain.reaches(KeeperState.SyncConnected), "not connected");
        try {
            plain.zk().getData(root, false, null);
            check("a client without SASL may not read", false, "read succeeded");
        } catch (KeeperException.NoAuthException e) {
            check("a client without SASL may not read", true, "");
        }
        try {
            plain.zk().create(root + "-bad", new byte[0], new ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "a@b@c")))), CreateMode.PERSISTENT);
            check("a malformed sasl id is refused", false, "created");
        } catch (KeeperException.InvalidACLException e) {
            check("a malformed sasl id is refused", true, "");
        }

        Client superUser = connect(hosts, "Super");
        check("the super user authenticates", superUser.reaches(KeeperState.SaslAuthenticated), "no SaslAuthenticated event");
        check("the super user reads bob's node", superUser.zk().getData(root, false, null).length == 6, "");

        Client wrong = connect(hosts, "Wrong");
        check("a wrong password fails", wrong.reaches(KeeperState.AuthFailed), "no AuthFailed event");

        bob.zk().delete(root + "/creator", -1);
        bob.zk().delete(root, -1);
        for (Client c : List.of(bob, plain, superUser, wrong)) {
            c.zk().close();
        }
    }
}
