-- A receiving service without Hamroh accounts answers one referral through a link that needs no
-- log-in. The link's secret is kept only as its SHA-256, so a copy of the database cannot
-- be turned into working links. A link ends when it expires, is revoked or its referral is
-- finished; a new link for the same referral revokes the earlier one. Keep in step with
-- ../sqlite/.

CREATE TABLE partner_links (
    id UUID PRIMARY KEY,
    referral_id UUID NOT NULL REFERENCES referrals(id),
    secret_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by UUID REFERENCES users(id),
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_by UUID REFERENCES users(id),
    last_used_at BIGINT,
    uses BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX partner_links_referral ON partner_links(referral_id);
