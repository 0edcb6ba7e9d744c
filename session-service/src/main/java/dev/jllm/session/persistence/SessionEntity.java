package dev.jllm.session.persistence;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.OffsetDateTime;

/** One conversation (table {@code sessions}, created by migration V1). */
@Entity
@Table(name = "sessions")
public class SessionEntity extends PanacheEntityBase {
    @Id
    public String id;
    @Column(nullable = false)
    public String owner;
    @Column(nullable = false)
    public String model;
    @Column(name = "token_count", nullable = false)
    public int tokenCount;
    /** int32 little-endian token ids. */
    @Column(name = "token_history", nullable = false)
    public byte[] tokenHistory = new byte[0];
    @Column(name = "created_at", nullable = false)
    public OffsetDateTime createdAt;
    @Column(name = "last_used_at", nullable = false)
    public OffsetDateTime lastUsedAt;
}
