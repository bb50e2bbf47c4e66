-- A receiving service without Hamroh accounts answers one referral through a link that needs no
-- log-in. The link's secret is kept only as its SHA-256, so a copy of the database cannot
-- be turned into working links. A link ends when it expires, is revoked or its referral is
-- finished; a new link for the same referral revokes the earlier one. Keep in step with
-- ../postgres/.

CREATE TABLE partner_links (
    id BLOB PRIMARY KEY,
    referral_id BLOB NOT NULL REFERENCES referrals(id),
    secret_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by BLOB REFERENCES users(id),
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_by BLOB REFERENCES users(id),
    last_used_at INTEGER,
    uses INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX partner_links_referral ON partner_links(referral_id);
