-- The enterprise timeline reads an enterprise's agreements by signing date and by end date.
CREATE INDEX agreements_enterprise_signed_idx ON agreements (enterprise_id, signed_on, id);
CREATE INDEX agreements_enterprise_until_idx ON agreements (enterprise_id, valid_until, id);
